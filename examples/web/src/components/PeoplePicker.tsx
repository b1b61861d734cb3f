import { useMemo, useState } from "react";
import type { User } from "../api/types";
import { Avatar } from "./Avatar";

/** PeoplePicker chooses people from a filterable checklist. */
export function PeoplePicker({ people, selected, onChange, legend }: { people: User[]; selected: number[]; onChange(ids: number[]): void; legend: string }) {
  const [filter, setFilter] = useState("");
  const shown = useMemo(() => {
    const f = filter.trim().toLowerCase();
    return people.filter((u) => u.status === "active" && (!f || u.name.toLowerCase().includes(f))).sort((a, b) => a.name.localeCompare(b.name));
  }, [people, filter]);
  const toggle = (id: number, on: boolean) => onChange(on ? [...selected, id] : selected.filter((x) => x !== id));

  return (
    <fieldset className="fieldset people-picker">
      <legend>{legend}</legend>
      <input type="search" aria-label="Filter people" placeholder="Filter by name" value={filter} onChange={(e) => setFilter(e.target.value)} />
      <ul>
        {shown.map((u) => (
          <li key={u.id}>
            <label className="checkbox person">
              <input type="checkbox" checked={selected.includes(u.id)} onChange={(e) => toggle(u.id, e.target.checked)} />
              <Avatar user={u} size={24} />
              {u.name}
            </label>
          </li>
        ))}
        {shown.length === 0 && <li className="muted">Nobody matches.</li>}
      </ul>
    </fieldset>
  );
}
