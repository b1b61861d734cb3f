import { useState, type FormEvent } from "react";
import { ApiError } from "../api/client";
import type { User } from "../api/types";
import { useApi } from "../hooks/useApi";
import { useDocumentTitle } from "../hooks/useDocumentTitle";
import { AuthLayout } from "./AuthLayout";
import { ErrorNote } from "./ErrorNote";
import { Field } from "./Field";

/** SignInPage: email and password. */
export function SignInPage({ onDone, notice }: { onDone(u: User): void; notice?: string }) {
  const api = useApi();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  useDocumentTitle("Sign in");

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onDone(await api.signIn(email, password));
    } catch (err) {
      if (err instanceof ApiError && err.code === "invalid_credentials") setError("That email and password don't match an account.");
      else if (err instanceof ApiError && err.status === 429)
        setError(`Too many tries. Wait ${err.retryAfter ? Math.ceil(err.retryAfter / 60) + " minute(s)" : "a few minutes"} and try again.`);
      else setError(err instanceof ApiError ? err.message : "Couldn't sign in.");
      setBusy(false);
    }
  };

  return (
    <AuthLayout title="Sign in" lead={notice}>
      <form onSubmit={submit} className="stack">
        <Field label="Email address" type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} />
        <Field label="Password" type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
        <ErrorNote>{error}</ErrorNote>
        <button className="button primary" type="submit" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
      <p className="auth-foot">New here? Ask an admin for the join link.</p>
    </AuthLayout>
  );
}
