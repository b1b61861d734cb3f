import type { ReactNode } from "react";

/** AuthLayout frames the screens before signing in: first run, sign in, join. */
export function AuthLayout({ title, lead, children }: { title: string; lead?: ReactNode; children?: ReactNode }) {
  return (
    <main className="auth">
      <div className="auth-card">
        <div className="auth-brand" aria-hidden="true">
          <svg viewBox="0 0 64 64" width="48" height="48">
            <rect width="64" height="64" rx="16" fill="var(--ember)" />
            <path d="M32 12c3 8 12 12 12 24a12 12 0 0 1-24 0c0-6 3-9 5-12 1 4 3 6 5 6-2-6 0-12 2-18z" fill="#fde68a" />
          </svg>
        </div>
        <h1>{title}</h1>
        {lead && <p className="auth-lead">{lead}</p>}
        {children}
      </div>
    </main>
  );
}
