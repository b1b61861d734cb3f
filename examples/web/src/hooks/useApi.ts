import { useContext } from "react";
import type { Api } from "../api/client";
import { ApiContext } from "./contexts";

/** useApi is the typed API client. */
export function useApi(): Api {
  const api = useContext(ApiContext);
  if (!api) throw new Error("useApi needs an ApiContext provider");
  return api;
}
