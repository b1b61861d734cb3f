import { useContext } from "react";
import { SessionContext, type SessionValue } from "./contexts";

/** useSession is the signed-in user and what the server offers. */
export function useSession(): SessionValue {
  const s = useContext(SessionContext);
  if (!s) throw new Error("useSession needs a SessionContext provider");
  return s;
}
