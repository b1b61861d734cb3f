import { useCallback, useEffect, useMemo, useState } from "react";
import { ApiError, type Api } from "../api/client";
import type { LiveConnection } from "../api/live";
import type { Features, User } from "../api/types";
import { ApiContext, SessionContext, type SessionValue } from "../hooks/contexts";
import { navigate, useLocation } from "../router/location";
import { matchRoute } from "../router/routes";
import { unlockAudio } from "../sounds/synth";
import { ChatProvider } from "./ChatProvider";
import { FirstRunPage } from "./FirstRunPage";
import { JoinPage } from "./JoinPage";
import { Shell } from "./Shell";
import { SignInPage } from "./SignInPage";
import { AuthLayout } from "./AuthLayout";

type Boot =
  | { phase: "loading" }
  | { phase: "unreachable"; message: string }
  | { phase: "setup"; features: Features }
  | { phase: "signedOut"; features: Features; notice?: string }
  | { phase: "signedIn"; features: Features; me: User };

/** App finds out where the visitor stands (setup, signed out, signed in) and shows that. */
export function App({ api, createLive }: { api: Api; createLive?: () => LiveConnection }) {
  const [boot, setBoot] = useState<Boot>({ phase: "loading" });
  const { pathname } = useLocation();
  const route = matchRoute(pathname);

  const start = useCallback(async () => {
    try {
      const features = await api.features();
      if (features.builtin_auth && (await api.setupNeeded())) {
        setBoot({ phase: "setup", features });
        return;
      }
      try {
        setBoot({ phase: "signedIn", features, me: await api.session() });
      } catch (err) {
        if (err instanceof ApiError && err.status === 401) setBoot({ phase: "signedOut", features });
        else throw err;
      }
    } catch (err) {
      setBoot({ phase: "unreachable", message: err instanceof ApiError ? err.message : "The server did not answer." });
    }
  }, [api]);

  useEffect(() => {
    start();
  }, [start]);

  // Browsers play sound only after a gesture: wake the audio on the first one.
  useEffect(() => {
    const wake = () => unlockAudio();
    window.addEventListener("pointerdown", wake, { once: true });
    window.addEventListener("keydown", wake, { once: true });
    return () => {
      window.removeEventListener("pointerdown", wake);
      window.removeEventListener("keydown", wake);
    };
  }, []);

  const signedIn = useCallback(
    (me: User) => {
      setBoot((b) => ("features" in b ? { phase: "signedIn", features: b.features, me } : b));
      if (route.name === "join" || route.name === "signIn") navigate("/", { replace: true });
    },
    [route.name],
  );

  const session = useMemo<SessionValue | null>(() => {
    if (boot.phase !== "signedIn") return null;
    return {
      me: boot.me,
      features: boot.features,
      setMe: (me) => setBoot((b) => (b.phase === "signedIn" ? { ...b, me } : b)),
      signOut: async () => {
        try {
          await api.signOut();
        } catch {
          // Signed out here either way.
        }
        setBoot({ phase: "signedOut", features: boot.features });
        navigate("/", { replace: true });
      },
    };
  }, [api, boot]);

  const sessionEnded = useCallback(() => {
    setBoot((b) => ("features" in b ? { phase: "signedOut", features: b.features, notice: "Your session ended. Sign in again." } : b));
  }, []);

  let content: React.ReactNode;
  switch (boot.phase) {
    case "loading":
      content = (
        <div className="splash" role="status">
          Loading…
        </div>
      );
      break;
    case "unreachable":
      content = (
        <AuthLayout title="Can't reach Campfire" lead={boot.message}>
          <button className="button primary" onClick={() => start()}>
            Try again
          </button>
        </AuthLayout>
      );
      break;
    case "setup":
      content = <FirstRunPage onDone={signedIn} />;
      break;
    case "signedOut":
      if (!boot.features.builtin_auth)
        content = <AuthLayout title="Sign in through your site" lead="This chat takes your identity from the site it's part of. Sign in there, then come back." />;
      else if (route.name === "join") content = <JoinPage code={route.code} onDone={signedIn} />;
      else content = <SignInPage onDone={signedIn} notice={boot.notice} />;
      break;
    case "signedIn":
      content = (
        <SessionContext.Provider value={session}>
          <ChatProvider createLive={createLive} onSessionEnded={sessionEnded}>
            <Shell route={route} />
          </ChatProvider>
        </SessionContext.Provider>
      );
      break;
  }
  return <ApiContext.Provider value={api}>{content}</ApiContext.Provider>;
}
