import { useCallback, useEffect, useMemo, useState } from "react";
import { flushSync } from "react-dom";
import { NavLink, Navigate, Outlet, useLocation, useNavigate } from "react-router";
import { onSessionEnded } from "../api/clients";
import type { Problem } from "../api/problem";
import { isProblem, readSession, signOut, type Session } from "../auth/session";
import { SessionContext, type SessionValue } from "../auth/SessionContext";
import { Loading, ProblemView } from "./Status";

type Page = { to: string; label: string; adminOnly: boolean };
const pages: Page[] = [
  { to: "/", label: "Overview", adminOnly: false },
  { to: "/tenants", label: "Tenants", adminOnly: true },
  { to: "/spend", label: "Spend explorer", adminOnly: false },
  { to: "/invoices", label: "Invoices", adminOnly: false },
  { to: "/month-close", label: "Month close", adminOnly: true },
  { to: "/chargeback", label: "Chargeback", adminOnly: false },
  { to: "/alerts", label: "Alerts", adminOnly: true },
  { to: "/rate-cards", label: "Rate cards", adminOnly: true },
  { to: "/teams", label: "Teams", adminOnly: true },
];

/** Everything behind sign-in: reads the session from the host, then shows the role's navigation and the page. */
export function SignedInLayout() {
  const location = useLocation();
  const navigate = useNavigate();
  const [session, setSession] = useState<Session | Problem | null | undefined>(undefined);
  const [leaving, setLeaving] = useState(false);

  useEffect(() => {
    let current = true;
    readSession().then((value) => current && setSession(value));
    return () => {
      current = false;
    };
  }, []);
  useEffect(() => onSessionEnded(() => setSession(null)), []);

  const leave = useCallback(async () => {
    // The page goes before the session does: unmounting it cancels its requests in flight, which the host would
    // otherwise answer 401 once the session has ended (flushSync: unmounted before the sign-out request is sent).
    flushSync(() => setLeaving(true));
    if (session && !isProblem(session)) await signOut(session.csrf);
    setSession(null);
    navigate("/sign-in", { replace: true });
  }, [session, navigate]);

  const value = useMemo<SessionValue | null>(() => {
    if (!session || isProblem(session)) return null;
    return { session, signOut: leave };
  }, [session, leave]);

  if (session === undefined) return <Loading what="your session" />;
  if (session === null) {
    const next = location.pathname + location.search;
    return <Navigate to={next === "/" ? "/sign-in" : `/sign-in?next=${encodeURIComponent(next)}`} replace />;
  }
  if (isProblem(session))
    return (
      <main className="page">
        <h1>Console unavailable</h1>
        <ProblemView problem={session} />
      </main>
    );

  const visible = pages.filter((page) => !page.adminOnly || session.role === "admin");
  return (
    <SessionContext.Provider value={value}>
      <header className="top">
        <span className="brand">Metering</span>
        <nav aria-label="Pages">
          {session.role === "emitter" ? null : visible.map((page) => (
            <NavLink key={page.to} to={page.to} end={page.to === "/"}>
              {page.label}
            </NavLink>
          ))}
        </nav>
        <span className="who">
          {session.role}
          {session.team ? ` · team ${session.team}` : ""}
        </span>
        <button type="button" onClick={leave}>
          Sign out
        </button>
      </header>
      <main className="page">
        {leaving ? (
          <p className="loading" role="status">
            Signing out…
          </p>
        ) : session.role === "emitter" ? (
          <section>
            <h1>No console pages for emitters</h1>
            <p>An emitter token records usage; sign in with an admin or viewer token to see spend and budgets.</p>
          </section>
        ) : (
          <Outlet />
        )}
      </main>
      <footer className="bottom">All dates and times are UTC.</footer>
    </SessionContext.Provider>
  );
}
