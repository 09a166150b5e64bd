import type { Session } from "../auth/session";

/** A viewer's queries name its team, so the API answers for that team and the teams below it. */
export function teamScope(session: Session): string | undefined {
  return session.role === "viewer" ? session.team : undefined;
}
