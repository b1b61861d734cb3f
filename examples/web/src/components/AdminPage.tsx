import { useState, type FormEvent } from "react";
import { useApi } from "../hooks/useApi";
import { useChat } from "../hooks/useChat";
import { useDocumentTitle } from "../hooks/useDocumentTitle";
import { errorText } from "../hooks/useRoomMessages";
import { useSession } from "../hooks/useSession";
import { BotsAdmin } from "./BotsAdmin";
import { ErrorNote } from "./ErrorNote";
import { FeatureOff } from "./FeatureOff";
import { Field } from "./Field";
import { JoinCodePanel } from "./JoinCodePanel";
import { PageHeader } from "./PageHeader";
import { UsersAdmin } from "./UsersAdmin";

/** AdminPage: the account's name and rules, the join link, the people and the bots. Admins only. */
export function AdminPage() {
  const api = useApi();
  const { me, features } = useSession();
  const { account, setAccount } = useChat();
  const [name, setName] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  useDocumentTitle("Administration");

  if (me.role !== "admin") {
    return (
      <section className="page">
        <PageHeader title="Administration" />
        <div className="page-body">
          <p>Only administrators can see this page.</p>
        </div>
      </section>
    );
  }

  const saveName = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    setSaved(false);
    try {
      setAccount(await api.updateAccount({ name: name ?? account?.name ?? "" }));
      setSaved(true);
    } catch (err) {
      setError(errorText(err));
    }
  };

  const toggleRestrict = async (restrict: boolean) => {
    setError(null);
    try {
      setAccount(await api.updateAccount({ settings: { restrict_room_creation_to_admins: restrict } }));
    } catch (err) {
      setError(errorText(err));
    }
  };

  return (
    <section className="page">
      <PageHeader title="Administration" />
      <div className="page-body">
        <section className="panel" aria-labelledby="account-heading">
          <h2 id="account-heading">This chat</h2>
          {account && (
            <>
              <form onSubmit={saveName} className="inline-form">
                <Field label="Name" value={name ?? account.name} maxLength={120} onChange={(e) => setName(e.target.value)} />
                <button className="button" type="submit">
                  Save name
                </button>
                {saved && (
                  <span className="success-note" role="status">
                    Saved.
                  </span>
                )}
              </form>
              <label className="checkbox">
                <input type="checkbox" checked={account.settings.restrict_room_creation_to_admins} onChange={(e) => toggleRestrict(e.target.checked)} />
                Only administrators can create open and closed rooms
              </label>
            </>
          )}
          <ErrorNote>{error}</ErrorNote>
        </section>

        {features.builtin_auth ? (
          <JoinCodePanel />
        ) : (
          <section className="panel">
            <h2>Invitations</h2>
            <FeatureOff>People sign in through the site this chat is part of, so there is no join link.</FeatureOff>
          </section>
        )}

        <UsersAdmin />

        {features.bots ? (
          <BotsAdmin />
        ) : (
          <section className="panel" aria-labelledby="bots-heading">
            <h2 id="bots-heading">Bots</h2>
            <FeatureOff>Bots are turned off on this server.</FeatureOff>
          </section>
        )}
      </div>
    </section>
  );
}
