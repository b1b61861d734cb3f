import { useState, type FormEvent } from "react";
import { ApiError } from "../api/client";
import type { User } from "../api/types";
import { useApi } from "../hooks/useApi";
import { useDocumentTitle } from "../hooks/useDocumentTitle";
import { paths } from "../router/routes";
import { AuthLayout } from "./AuthLayout";
import { ErrorNote } from "./ErrorNote";
import { Field } from "./Field";
import { Link } from "./Link";

/** JoinPage creates an account through the join link /join/CODE. */
export function JoinPage({ code, onDone }: { code: string; onDone(u: User): void }) {
  const api = useApi();
  const [form, setForm] = useState({ name: "", email: "", password: "" });
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  useDocumentTitle("Join");

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onDone(await api.join(code, form));
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError(0, { code: "unknown", message: "Couldn't join." }));
      setBusy(false);
    }
  };
  const set = (k: keyof typeof form) => (e: React.ChangeEvent<HTMLInputElement>) => setForm({ ...form, [k]: e.target.value });
  const fieldError = (f: string) => (error?.field === f ? error.message : null);

  let general: React.ReactNode = null;
  if (error && !error.field) {
    if (error.status === 404) general = "This join link doesn't work anymore. Ask an admin for the current one.";
    else if (error.status === 409)
      general = (
        <>
          There's already an account with that email. <Link to={paths.signIn()}>Sign in instead</Link>.
        </>
      );
    else if (error.status === 429) general = "Too many tries from here. Wait a few minutes and try again.";
    else general = error.message;
  }

  return (
    <AuthLayout title="Join the chat" lead="Tell everyone who you are. You'll be in the open rooms right away.">
      <form onSubmit={submit} className="stack">
        <Field label="Your name" autoComplete="name" required value={form.name} onChange={set("name")} error={fieldError("name")} />
        <Field label="Email address" type="email" autoComplete="email" required value={form.email} onChange={set("email")} error={fieldError("email")} />
        <Field
          label="Password"
          type="password"
          autoComplete="new-password"
          required
          minLength={8}
          value={form.password}
          onChange={set("password")}
          hint="At least 8 characters."
          error={fieldError("password")}
        />
        <ErrorNote>{general}</ErrorNote>
        <button className="button primary" type="submit" disabled={busy}>
          {busy ? "Joining…" : "Join"}
        </button>
      </form>
      <p className="auth-foot">
        Have an account? <Link to={paths.signIn()}>Sign in</Link>
      </p>
    </AuthLayout>
  );
}
