import { createContext, useContext } from "react";
import type { WhoAmIResponse } from "./gen/sluice/v1/account_pb";

export interface Session {
  apiKey: string;
  who: WhoAmIResponse;
}

export interface SessionApi {
  session: Session | null;
  /** Resolves when the key is accepted; rejects with the server's error otherwise. */
  signIn: (apiKey: string) => Promise<void>;
  signOut: (reason?: string) => void;
  /** Why the user was signed out (e.g. the key was revoked), shown on the sign-in page. */
  notice: string | null;
}

export const SessionContext = createContext<SessionApi | null>(null);

export function useSession(): SessionApi {
  const ctx = useContext(SessionContext);
  if (!ctx) throw new Error("useSession outside SessionProvider");
  return ctx;
}

export const STORAGE_KEY = "sluice.apiKey";
