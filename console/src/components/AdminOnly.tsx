import type { ReactNode } from "react";
import { isAdmin, useSession } from "../auth/SessionContext";
import { usePageTitle } from "./usePageTitle";

/** An admin page: a viewer reaching it by URL is told so (the APIs refuse it anyway). */
export function AdminOnly({ children }: { children: ReactNode }) {
  const { session } = useSession();
  usePageTitle(isAdmin(session) ? null : "Not available");
  if (isAdmin(session)) return children;
  return (
    <section>
      <h1>Not available</h1>
      <p>This page is for admins; you are signed in as a {session.role}{session.team ? ` of team ${session.team}` : ""}.</p>
    </section>
  );
}
