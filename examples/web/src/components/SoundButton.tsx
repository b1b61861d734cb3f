import { playSound } from "../sounds/synth";
import { Icon } from "./Icon";

/** SoundButton shows a /play message and plays it again on demand. */
export function SoundButton({ name }: { name: string }) {
  return (
    <div className="message-body sound">
      <button type="button" className="sound-button" onClick={() => playSound(name)} aria-label={`Play the ${name} sound`}>
        <Icon name="play" size={14} />
        <span>{name}</span>
      </button>
      <span className="sound-note">played a sound</span>
    </div>
  );
}
