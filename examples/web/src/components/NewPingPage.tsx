import { useState, type FormEvent } from "react";
import { useApi } from "../hooks/useApi";
import { useChat } from "../hooks/useChat";
import { useDocumentTitle } from "../hooks/useDocumentTitle";
import { errorText } from "../hooks/useRoomMessages";
import { useSession } from "../hooks/useSession";
import { navigate } from "../router/location";
import { paths } from "../router/routes";
import { ErrorNote } from "./ErrorNote";
import { PageHeader } from "./PageHeader";
import { PeoplePicker } from "./PeoplePicker";

/** NewPingPage starts a direct conversation (one per set of people: asking again opens the same one). */
export function NewPingPage() {
  const api = useApi();
  const { me } = useSession();
  const { users, dispatchRooms } = useChat();
  const [selected, setSelected] = useState<number[]>([]);
  const [error, setError] = useState<string | null>(null);
  useDocumentTitle("New ping");

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (selected.length === 0) {
      setError("Choose at least one person.");
      return;
    }
    try {
      const room = await api.createRoom({ kind: "direct", user_ids: selected });
      dispatchRooms({ type: "upserted", room });
      navigate(paths.room(room.id));
    } catch (err) {
      setError(errorText(err));
    }
  };

  return (
    <section className="page">
      <PageHeader title="New ping" subtitle="A private conversation with one or more people." />
      <div className="page-body narrow">
        <form onSubmit={submit} className="stack">
          <PeoplePicker legend="With" people={[...users.values()].filter((u) => u.id !== me.id)} selected={selected} onChange={setSelected} />
          <ErrorNote>{error}</ErrorNote>
          <div>
            <button className="button primary" type="submit">
              Start the conversation
            </button>
          </div>
        </form>
      </div>
    </section>
  );
}
