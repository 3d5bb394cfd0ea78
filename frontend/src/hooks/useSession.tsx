import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { login, logout, type User } from "../api";
import { tracker } from "../lib/analytics";
import { startSession } from "../lib/session";

export interface SessionState {
  user: User | null;
  loading: boolean;
  // Callbacks (useCallback), not methods: a component takes them out of the context on their own.
  signIn: (username: string, password: string) => Promise<void>;
  signOut: () => Promise<void>;
}

const SessionContext = createContext<SessionState | null>(null);

/** Who is signed in: the one piece of state several parts of the page (header, account) share. */
export function SessionProvider({ children }: { children: ReactNode }) {
  const [user, setUser] = useState<User | null>(null);
  const [loading, setLoading] = useState(true);

  useEffect(() => {
    let live = true;
    startSession().then(
      (s) => live && (setUser(s.user), setLoading(false)),
      () => live && setLoading(false),
    );
    return () => {
      live = false;
    };
  }, []);

  const signIn = useCallback(async (username: string, password: string) => {
    // Events tracked so far go out under the anonymous cookie first; the server carries them over on login.
    await tracker.flush();
    const s = await login(username, password);
    setUser(s.user);
  }, []);

  const signOut = useCallback(async () => {
    await tracker.flush();
    const s = await logout();
    setUser(s.user);
  }, []);

  const value = useMemo(() => ({ user, loading, signIn, signOut }), [user, loading, signIn, signOut]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionState {
  const s = useContext(SessionContext);
  if (!s) throw new Error("useSession must be used inside <SessionProvider>");
  return s;
}
