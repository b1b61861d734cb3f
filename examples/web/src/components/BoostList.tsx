import type { Boost, Message } from "../api/types";
import { useSession } from "../hooks/useSession";

interface Group {
  content: string;
  boosts: Boost[];
}

function groupBoosts(boosts: Boost[]): Group[] {
  const groups: Group[] = [];
  for (const b of boosts) {
    const g = groups.find((x) => x.content === b.content);
    if (g) g.boosts.push(b);
    else groups.push({ content: b.content, boosts: [b] });
  }
  return groups;
}

/** BoostList shows a message's boosts, one chip per content; yours can be taken back. */
export function BoostList({ message, enabled, onBoost, onUnboost }: { message: Message; enabled: boolean; onBoost(content: string): void; onUnboost(boostId: number): void }) {
  const { me } = useSession();
  if (message.boosts.length === 0) return null;
  return (
    <ul className="boosts" aria-label="Boosts">
      {groupBoosts(message.boosts).map((g) => {
        const mine = g.boosts.find((b) => b.booster.id === me.id);
        const who = g.boosts.map((b) => (b.booster.id === me.id ? "you" : b.booster.name)).join(", ");
        const label = mine ? `${g.content} from ${who}. Take back your boost` : `${g.content} from ${who}. Boost this too`;
        return (
          <li key={g.content}>
            <button
              type="button"
              className={"boost" + (mine ? " mine" : "")}
              aria-pressed={!!mine}
              aria-label={label}
              title={who}
              disabled={!mine && !enabled}
              onClick={() => (mine ? onUnboost(mine.id) : onBoost(g.content))}
            >
              <span className="boost-content">{g.content}</span>
              {g.boosts.length > 1 && <span className="boost-count">{g.boosts.length}</span>}
              <span className="boost-who">{g.boosts.length === 1 ? (mine ? "you" : g.boosts[0].booster.name) : ""}</span>
            </button>
          </li>
        );
      })}
    </ul>
  );
}
