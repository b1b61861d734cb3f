import { useState, type FormEvent } from "react";
import { ApiError } from "../api/client";
import type { User } from "../api/types";
import { useApi } from "../hooks/useApi";
import { useDocumentTitle } from "../hooks/useDocumentTitle";
import { AuthLayout } from "./AuthLayout";
import { ErrorNote } from "./ErrorNote";
import { Field } from "./Field";

/** FirstRunPage sets up the account and its first admin, once. */
export function FirstRunPage({ onDone }: { onDone(u: User): void }) {
  const api = useApi();
  const [form, setForm] = useState({ name: "", email: "", password: "", account_name: "" });
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  useDocumentTitle("Set up");

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onDone(await api.setup(form));
    } catch (err) {
      setError(err instanceof ApiError ? err : null);
      setBusy(false);
    }
  };
  const fieldError = (f: string) => (error?.field === f ? error.message : null);
  const set = (k: keyof typeof form) => (e: React.ChangeEvent<HTMLInputElement>) => setForm({ ...form, [k]: e.target.value });

  return (
    <AuthLayout title="Welcome to Campfire" lead="Set up your chat. You'll be its first administrator, and you can invite everyone else with a link.">
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
        <Field
          label="Name of this chat"
          placeholder="Campfire"
          value={form.account_name}
          onChange={set("account_name")}
          hint="Optional. Shown at the top of the sidebar."
          error={fieldError("account_name")}
        />
        <ErrorNote>{error && !error.field ? error.message : null}</ErrorNote>
        <button className="button primary" type="submit" disabled={busy}>
          {busy ? "Setting up…" : "Set up Campfire"}
        </button>
      </form>
    </AuthLayout>
  );
}
