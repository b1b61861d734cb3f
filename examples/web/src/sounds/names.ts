// The names `/play NAME` accepts: Campfire's 56, as the server knows them.
export const SOUND_NAMES = [
  "56k", "ballmer", "bell", "bezos", "bueller", "butts", "clowntown", "cottoneyejoe",
  "crickets", "curb", "dadgummit", "dangerzone", "danielsan", "deeper", "donotwant", "drama",
  "flawless", "glados", "gogogo", "greatjob", "greyjoy", "guarantee", "heygirl", "honk",
  "horn", "horror", "inconceivable", "letitgo", "live", "loggins", "makeitso", "noooo",
  "nyan", "ohmy", "ohyeah", "pushit", "rimshot", "rollout", "rumble", "sax",
  "secret", "sexyback", "story", "tada", "tmyk", "totes", "trololo", "trombone",
  "unix", "vuvuzela", "what", "whoomp", "wups", "yay", "yeah", "yodel",
] as const;

export function isSound(name: string): boolean {
  return (SOUND_NAMES as readonly string[]).includes(name);
}
