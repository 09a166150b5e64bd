import { setCsrfToken } from "../api/clients";
import { problemOf, unreachable, type Problem } from "../api/problem";

/** What the console host says about the signed-in session (never the token itself). */
export type Role = "admin" | "emitter" | "viewer";
export type Session = { role: Role; team?: string; csrf: string };

async function bodyOf(response: Response): Promise<unknown> {
  return response.json().catch(() => undefined);
}

/** The current session, or null when signed out (401). */
export async function readSession(): Promise<Session | Problem | null> {
  try {
    const response = await fetch("/auth/session", { headers: { Accept: "application/json" } });
    if (response.status === 401) return null;
    if (!response.ok) return problemOf(response.status, await bodyOf(response), response.statusText);
    const session = (await response.json()) as Session;
    setCsrfToken(session.csrf);
    return session;
  } catch {
    return unreachable();
  }
}

/** Posts the token once to the host, which keeps it server-side or in an HttpOnly cookie; the page forgets it. */
export async function signIn(token: string): Promise<Session | Problem> {
  try {
    const response = await fetch("/auth/sign-in", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ token }),
    });
    if (!response.ok) return problemOf(response.status, await bodyOf(response), response.statusText);
    const session = await readSession();
    return session ?? problemOf(401, undefined, "Signed in, but the host holds no session");
  } catch {
    return unreachable();
  }
}

export async function signOut(csrf: string): Promise<void> {
  await fetch("/auth/sign-out", { method: "POST", headers: { "X-CSRF-TOKEN": csrf } }).catch(() => undefined);
  setCsrfToken("");
}

export const isProblem = (value: Session | Problem | null): value is Problem => value !== null && "status" in value;
