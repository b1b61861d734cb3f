import { useContext } from "react";
import { ChatContext, type ChatValue } from "./contexts";

/** useChat is the live connection, the rooms and the people. */
export function useChat(): ChatValue {
  const c = useContext(ChatContext);
  if (!c) throw new Error("useChat needs a ChatContext provider");
  return c;
}
