import { dayLabel } from "../state/layout";

/** DaySeparator marks where a new day starts in the conversation. */
export function DaySeparator({ date }: { date: Date }) {
  const label = dayLabel(date);
  return (
    <div className="day-separator" role="separator" aria-label={label}>
      <span>{label}</span>
    </div>
  );
}
