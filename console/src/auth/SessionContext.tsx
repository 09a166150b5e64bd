import { createContext, useContext } from "react";
import type { Session } from "./session";

export type SessionValue = { session: Session; signOut: () => Promise<void> };

export const SessionContext = createContext<SessionValue | null>(null);

/** The signed-in session; only used below the signed-in layout, which provides it. */
export function useSession(): SessionValue {
  const value = useContext(SessionContext);
  if (!value) throw new Error("useSession outside the signed-in layout");
  return value;
}

export const isAdmin = (session: Session): boolean => session.role === "admin";
