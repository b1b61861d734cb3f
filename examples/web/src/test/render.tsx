// Renders parts of the app inside the providers they need, over fakes.
import { render } from "@testing-library/react";
import type { ReactNode } from "react";
import type { Api } from "../api/client";
import { LiveConnection } from "../api/live";
import type { Features } from "../api/types";
import { ChatProvider } from "../components/ChatProvider";
import { ApiContext, SessionContext } from "../hooks/contexts";
import { ada, FakeEventSource, FakeSocket, features } from "./fakes";

export function fakeLive(): LiveConnection {
  return new LiveConnection({
    socketURL: "ws://test/api/v1/ws",
    createSocket: (url) => new FakeSocket(url),
    createEventSource: (url) => new FakeEventSource(url),
    probe: async () => "down",
    post: async () => {},
    random: () => 0.5,
  });
}

/** renderInChat renders ui signed in as Ada; opts.features changes what the server offers. */
export function renderInChat(ui: ReactNode, api: Api, live = fakeLive(), opts: { features?: Partial<Features> } = {}) {
  const session = { me: ada, features: { ...features, ...opts.features }, setMe: () => {}, signOut: async () => {} };
  const result = render(
    <ApiContext.Provider value={api}>
      <SessionContext.Provider value={session}>
        <ChatProvider createLive={() => live} onSessionEnded={() => {}}>
          {ui}
        </ChatProvider>
      </SessionContext.Provider>
    </ApiContext.Provider>,
  );
  return { ...result, live };
}
