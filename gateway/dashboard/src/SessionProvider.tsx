import { Code, ConnectError } from "@connectrpc/connect";
import { useCallback, useEffect, useMemo, useState, type ReactNode } from "react";
import { setApiKey, setUnauthenticatedHandler, whoAmI } from "./api/client";
import { errorText } from "./api/errors";
import { SessionContext, STORAGE_KEY, type Session, type SessionApi } from "./session";

function storedKey(): string | null {
  try {
    return sessionStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

type Boot = { kind: "checking"; key: string } | { kind: "ready" };

export function SessionProvider({ children }: { children: ReactNode }) {
  const [session, setSession] = useState<Session | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [boot, setBoot] = useState<Boot>(() => {
    const key = storedKey();
    return key ? { kind: "checking", key } : { kind: "ready" };
  });

  const signOut = useCallback((reason?: string) => {
    try {
      sessionStorage.removeItem(STORAGE_KEY);
    } catch {
      // storage unavailable: nothing to forget
    }
    setApiKey(null);
    setSession(null);
    setNotice(reason ?? null);
  }, []);

  const signIn = useCallback(async (apiKey: string) => {
    const key = apiKey.trim();
    const who = await whoAmI(key);
    try {
      sessionStorage.setItem(STORAGE_KEY, key);
    } catch {
      // storage unavailable: the session lasts as long as the page
    }
    setApiKey(key);
    setNotice(null);
    setSession({ apiKey: key, who });
  }, []);

  // A key kept from earlier in this tab is checked again before use.
  useEffect(() => {
    if (boot.kind !== "checking") return;
    const controller = new AbortController();
    whoAmI(boot.key, controller.signal).then(
      (who) => {
        setApiKey(boot.key);
        setSession({ apiKey: boot.key, who });
        setBoot({ kind: "ready" });
      },
      (err: unknown) => {
        if (controller.signal.aborted) return;
        if (err instanceof ConnectError && err.code === Code.Unauthenticated) {
          signOut(`Your API key is no longer accepted (${err.rawMessage}). Sign in again.`);
        } else {
          signOut(`Could not check your API key: ${errorText(err)}`);
        }
        setBoot({ kind: "ready" });
      },
    );
    return () => controller.abort();
  }, [boot, signOut]);

  useEffect(() => {
    setUnauthenticatedHandler(() => signOut("Your API key was refused by the server (revoked?). Sign in again."));
    return () => setUnauthenticatedHandler(null);
  }, [signOut]);

  const value = useMemo<SessionApi>(() => ({ session, signIn, signOut, notice }), [session, signIn, signOut, notice]);

  if (boot.kind === "checking") {
    return (
      <div className="boot" role="status" aria-live="polite">
        Checking your API key…
      </div>
    );
  }
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}
