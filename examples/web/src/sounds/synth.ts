// Little jingles made with the Web Audio API, one per /play name. Nothing is
// downloaded: each sound is a few oscillators and a burst of noise, composed
// here (a handful by hand, the rest from the name, so each is its own).

type Wave = OscillatorType;

/** A tone: frequency f (Hz) from time t for d seconds, optionally gliding to `to`. */
interface Tone {
  f: number;
  t: number;
  d: number;
  wave?: Wave;
  gain?: number;
  to?: number;
  vibrato?: number;
}

/** A burst of filtered noise (drums, static, applause). */
interface Noise {
  t: number;
  d: number;
  gain?: number;
  /** Band-pass centre, Hz. */
  band?: number;
}

interface Recipe {
  tones: Tone[];
  noise?: Noise[];
}

const NOTE = (semitonesFromA4: number) => 440 * 2 ** (semitonesFromA4 / 12);
// Handy pitches (semitones from A4).
const C4 = -9, D4 = -7, E4 = -5, F4 = -4, G4 = -2, A4 = 0, B4 = 2, C5 = 3, D5 = 5, E5 = 7, G5 = 10, C6 = 15;

function seq(notes: number[], step: number, wave: Wave = "triangle", len = 0.9, gain = 0.5): Tone[] {
  return notes.map((n, i) => ({ f: NOTE(n), t: i * step, d: step * len, wave, gain }));
}

const handmade: Record<string, () => Recipe> = {
  tada: () => ({
    tones: [
      ...seq([C4, E4, G4], 0.08, "square", 0.9, 0.25),
      ...[C4, E4, G4, C5].map((n) => ({ f: NOTE(n), t: 0.26, d: 0.8, wave: "triangle" as Wave, gain: 0.35 })),
    ],
  }),
  trombone: () => ({
    tones: [
      { f: NOTE(-14), t: 0, d: 0.35, wave: "sawtooth", gain: 0.3 },
      { f: NOTE(-15), t: 0.38, d: 0.35, wave: "sawtooth", gain: 0.3 },
      { f: NOTE(-16), t: 0.76, d: 0.35, wave: "sawtooth", gain: 0.3 },
      { f: NOTE(-17), t: 1.14, d: 1.1, wave: "sawtooth", gain: 0.3, to: NOTE(-18), vibrato: 6 },
    ],
  }),
  rimshot: () => ({
    tones: [
      { f: 180, t: 0, d: 0.12, wave: "sine", gain: 0.7, to: 90 },
      { f: 140, t: 0.2, d: 0.16, wave: "sine", gain: 0.7, to: 70 },
    ],
    noise: [{ t: 0.42, d: 0.5, gain: 0.35, band: 7000 }],
  }),
  crickets: () => ({
    tones: [0, 0.5, 1.0].flatMap((s) =>
      [0, 0.05, 0.1].map((o) => ({ f: 4600, t: s + o, d: 0.035, wave: "sine" as Wave, gain: 0.2 })),
    ),
  }),
  bell: () => ({
    tones: [
      { f: 880, t: 0, d: 1.6, wave: "sine", gain: 0.45 },
      { f: 880 * 2.76, t: 0, d: 0.9, wave: "sine", gain: 0.15 },
      { f: 880 * 5.4, t: 0, d: 0.4, wave: "sine", gain: 0.08 },
    ],
  }),
  honk: () => ({
    tones: [
      { f: 330, t: 0, d: 0.25, wave: "square", gain: 0.3 },
      { f: 415, t: 0, d: 0.25, wave: "square", gain: 0.2 },
      { f: 330, t: 0.32, d: 0.3, wave: "square", gain: 0.3 },
      { f: 415, t: 0.32, d: 0.3, wave: "square", gain: 0.2 },
    ],
  }),
  horn: () => ({
    tones: [
      { f: NOTE(-21), t: 0, d: 0.9, wave: "sawtooth", gain: 0.3 },
      { f: NOTE(-14), t: 0, d: 0.9, wave: "sawtooth", gain: 0.2 },
    ],
  }),
  vuvuzela: () => ({ tones: [{ f: 233, t: 0, d: 1.8, wave: "sawtooth", gain: 0.3, vibrato: 9 }] }),
  "56k": () => ({
    tones: [
      { f: 1270, t: 0, d: 0.25, wave: "sine", gain: 0.25 },
      { f: 2225, t: 0.3, d: 0.25, wave: "sine", gain: 0.25 },
      { f: 980, t: 0.6, d: 0.15, wave: "square", gain: 0.15, to: 2400 },
    ],
    noise: [{ t: 0.8, d: 0.9, gain: 0.2, band: 2000 }],
  }),
  drama: () => ({
    tones: [
      { f: NOTE(-12), t: 0, d: 0.25, wave: "sawtooth", gain: 0.3 },
      { f: NOTE(-10), t: 0.3, d: 0.25, wave: "sawtooth", gain: 0.3 },
      { f: NOTE(-13), t: 0.6, d: 1.2, wave: "sawtooth", gain: 0.35, vibrato: 5 },
    ],
  }),
  noooo: () => ({ tones: [{ f: 420, t: 0, d: 1.4, wave: "triangle", gain: 0.45, to: 180, vibrato: 5 }] }),
  what: () => ({ tones: [{ f: 220, t: 0, d: 0.45, wave: "triangle", gain: 0.45, to: 520 }] }),
  yay: () => ({ tones: seq([C5, E5, G5, C6], 0.09, "square", 0.9, 0.2), noise: [{ t: 0.3, d: 0.6, gain: 0.15, band: 3000 }] }),
  rumble: () => ({ tones: [{ f: 55, t: 0, d: 1.4, wave: "sawtooth", gain: 0.35, vibrato: 3 }], noise: [{ t: 0, d: 1.4, gain: 0.3, band: 120 }] }),
  nyan: () => ({ tones: seq([E5, D5 + 1, B4, C5, D5 + 1, B4, C5 + 1, B4], 0.11, "square", 0.8, 0.2) }),
  secret: () => ({ tones: seq([G4 + 12, F4 + 13, D4 + 12, G4, F4 + 9, C5 + 4, E5 + 1, C6 - 3], 0.1, "square", 0.85, 0.2) }),
  unix: () => ({ tones: seq([A4, A4, A4], 0.14, "square", 0.6, 0.25) }),
  wups: () => ({ tones: [{ f: 600, t: 0, d: 0.2, wave: "sine", gain: 0.45, to: 300 }, { f: 500, t: 0.22, d: 0.25, wave: "sine", gain: 0.45, to: 250 }] }),
};

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return h >>> 0;
}

/** composed makes a short, distinct melody from the name itself. */
function composed(name: string): Recipe {
  let h = hash(name);
  const next = (n: number) => {
    h = Math.imul(h ^ (h >>> 15), 2246822507) >>> 0;
    h = (h ^ (h >>> 13)) >>> 0;
    return h % n;
  };
  const scales = [
    [0, 2, 4, 7, 9, 12, 14, 16], // major pentatonic
    [0, 3, 5, 7, 10, 12, 15, 17], // minor pentatonic
    [0, 3, 5, 6, 7, 10, 12, 15], // blues
    [0, 2, 4, 5, 7, 9, 11, 12], // major
  ];
  const waves: Wave[] = ["triangle", "square", "sine", "sawtooth"];
  const scale = scales[next(scales.length)];
  const wave = waves[next(waves.length)];
  const root = -12 + next(12);
  const count = 3 + next(4);
  const step = 0.09 + next(5) * 0.025;
  const tones: Tone[] = [];
  let t = 0;
  for (let i = 0; i < count; i++) {
    const last = i === count - 1;
    const d = last ? step * 3 : step * (next(3) === 0 ? 2 : 1);
    tones.push({ f: NOTE(root + scale[next(scale.length)]), t, d: d * 0.9, wave, gain: wave === "sine" ? 0.5 : 0.25 });
    t += d;
  }
  return { tones };
}

export function recipeFor(name: string): Recipe {
  return handmade[name]?.() ?? composed(name);
}

let ctx: AudioContext | null = null;

function context(): AudioContext | null {
  if (ctx) return ctx;
  const AC = (globalThis as { AudioContext?: typeof AudioContext }).AudioContext;
  if (!AC) return null;
  ctx = new AC();
  return ctx;
}

/** unlockAudio starts the audio context on a user gesture, so later sounds may play. */
export function unlockAudio(): void {
  const c = context();
  if (c && c.state === "suspended") c.resume().catch(() => {});
}

/** playSound plays a /play sound; it does nothing where audio is unavailable or not yet allowed. */
export function playSound(name: string): void {
  const c = context();
  if (!c) return;
  if (c.state === "suspended") c.resume().catch(() => {});
  const recipe = recipeFor(name);
  const start = c.currentTime + 0.02;
  const master = c.createGain();
  master.gain.value = 0.35;
  master.connect(c.destination);
  for (const tone of recipe.tones) {
    const osc = c.createOscillator();
    const g = c.createGain();
    osc.type = tone.wave ?? "triangle";
    osc.frequency.setValueAtTime(tone.f, start + tone.t);
    if (tone.to) osc.frequency.exponentialRampToValueAtTime(tone.to, start + tone.t + tone.d);
    if (tone.vibrato) {
      const lfo = c.createOscillator();
      const lfoGain = c.createGain();
      lfo.frequency.value = tone.vibrato;
      lfoGain.gain.value = tone.f * 0.02;
      lfo.connect(lfoGain).connect(osc.frequency);
      lfo.start(start + tone.t);
      lfo.stop(start + tone.t + tone.d + 0.05);
    }
    const peak = tone.gain ?? 0.4;
    g.gain.setValueAtTime(0.0001, start + tone.t);
    g.gain.exponentialRampToValueAtTime(peak, start + tone.t + 0.012);
    g.gain.exponentialRampToValueAtTime(0.0001, start + tone.t + tone.d);
    osc.connect(g).connect(master);
    osc.start(start + tone.t);
    osc.stop(start + tone.t + tone.d + 0.05);
  }
  for (const n of recipe.noise ?? []) {
    const frames = Math.max(1, Math.floor(c.sampleRate * n.d));
    const buf = c.createBuffer(1, frames, c.sampleRate);
    const data = buf.getChannelData(0);
    for (let i = 0; i < frames; i++) data[i] = (Math.random() * 2 - 1) * (1 - i / frames);
    const src = c.createBufferSource();
    src.buffer = buf;
    const filter = c.createBiquadFilter();
    filter.type = "bandpass";
    filter.frequency.value = n.band ?? 3000;
    const g = c.createGain();
    g.gain.value = n.gain ?? 0.3;
    src.connect(filter).connect(g).connect(master);
    src.start(start + n.t);
  }
}
