import { useState, type FormEvent } from "react";
import { ApiError } from "../api/client";
import { useApi } from "../hooks/useApi";
import { useDocumentTitle } from "../hooks/useDocumentTitle";
import { useSession } from "../hooks/useSession";
import { Avatar } from "./Avatar";
import { ErrorNote } from "./ErrorNote";
import { Field } from "./Field";
import { PageHeader } from "./PageHeader";

/** ProfilePage edits your name, bio and password. */
export function ProfilePage() {
  const api = useApi();
  const { me, setMe, features } = useSession();
  const [name, setName] = useState(me.name);
  const [bio, setBio] = useState(me.bio);
  const [current, setCurrent] = useState("");
  const [password, setPassword] = useState("");
  const [confirm, setConfirm] = useState("");
  const [error, setError] = useState<ApiError | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  useDocumentTitle("Your profile");

  const save = async (e: FormEvent) => {
    e.preventDefault();
    setSaved(null);
    setError(null);
    if (password && password !== confirm) {
      setError(new ApiError(422, { code: "invalid", field: "confirm", message: "The two passwords don't match." }));
      return;
    }
    if (password && !current) {
      setError(new ApiError(422, { code: "invalid", field: "current_password", message: "Enter your current password to change it." }));
      return;
    }
    setBusy(true);
    try {
      const req: { name?: string; bio?: string; password?: string; current_password?: string } = {};
      if (name !== me.name) req.name = name;
      if (bio !== me.bio) req.bio = bio;
      if (password) {
        req.password = password;
        req.current_password = current;
      }
      if (Object.keys(req).length > 0) setMe(await api.updateMe(req));
      setCurrent("");
      setPassword("");
      setConfirm("");
      setSaved(password ? "Saved. Your password is changed." : "Saved.");
    } catch (err) {
      setError(err instanceof ApiError ? err : null);
    } finally {
      setBusy(false);
    }
  };
  const fieldError = (f: string) => {
    if (error?.field !== f) return null;
    // The server names the field in its own words ("current_password is wrong").
    if (f === "current_password" && error.status === 422 && !error.message.startsWith("Enter")) {
      return error.message.includes("wrong") ? "That's not your current password." : "Enter your current password to change it.";
    }
    return error.message;
  };

  return (
    <section className="page">
      <PageHeader title="Your profile" />
      <div className="page-body narrow">
        <div className="profile-card">
          <Avatar user={me} size={64} />
          <div>
            <p className="profile-name">{me.name}</p>
            {me.email && <p className="muted">{me.email}</p>}
            <p className="muted">{me.role === "admin" ? "Administrator" : "Member"}</p>
          </div>
        </div>
        <form onSubmit={save} className="stack">
          <Field label="Name" required maxLength={80} value={name} onChange={(e) => setName(e.target.value)} error={fieldError("name")} autoComplete="name" />
          <div className="field">
            <label htmlFor="bio">Bio</label>
            <textarea id="bio" maxLength={200} rows={3} value={bio} onChange={(e) => setBio(e.target.value)} aria-describedby="bio-hint" />
            <p className="field-hint" id="bio-hint">
              {200 - [...bio].length} characters left.
            </p>
            {fieldError("bio") && <p className="field-error">{fieldError("bio")}</p>}
          </div>
          {features.builtin_auth && (
            <fieldset className="fieldset">
              <legend>Change password</legend>
              <Field
                label="Current password"
                type="password"
                autoComplete="current-password"
                value={current}
                onChange={(e) => setCurrent(e.target.value)}
                error={fieldError("current_password")}
                hint="Needed to set a new one, so that nobody who finds this browser signed in can lock you out."
              />
              <Field label="New password" type="password" autoComplete="new-password" minLength={8} value={password} onChange={(e) => setPassword(e.target.value)} error={fieldError("password")} hint="Leave empty to keep your password. At least 8 characters." />
              <Field label="Confirm new password" type="password" autoComplete="new-password" value={confirm} onChange={(e) => setConfirm(e.target.value)} error={fieldError("confirm")} />
            </fieldset>
          )}
          <ErrorNote>{error && !error.field ? error.message : null}</ErrorNote>
          {saved && (
            <p className="success-note" role="status">
              {saved}
            </p>
          )}
          <div>
            <button className="button primary" type="submit" disabled={busy}>
              {busy ? "Saving…" : "Save"}
            </button>
          </div>
        </form>
      </div>
    </section>
  );
}
