import { useState, type FormEvent } from "react";
import { useNavigate, useSearchParams } from "react-router";
import type { Problem } from "../api/problem";
import { isProblem, signIn } from "../auth/session";
import { ProblemView } from "../components/Status";
import { usePageTitle } from "../components/usePageTitle";
import { safeNext } from "../lib/navigation";

export function SignInPage() {
  usePageTitle("Sign in");
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const [problem, setProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const field = form.elements.namedItem("token") as HTMLInputElement;
    const token = field.value;
    setBusy(true);
    const result = await signIn(token);
    field.value = "";
    setBusy(false);
    if (isProblem(result)) setProblem(result);
    else navigate(safeNext(params.get("next")), { replace: true });
  }

  return (
    <main className="page sign-in">
      <h1>Sign in to Metering</h1>
      <form onSubmit={submit} aria-describedby={problem ? "sign-in-problem" : undefined}>
        <label htmlFor="token">API token</label>
        <input id="token" name="token" type="password" autoComplete="off" required spellCheck={false} aria-invalid={problem ? true : undefined} />
        <button type="submit" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
      {problem && (
        <div id="sign-in-problem">
          <ProblemView problem={problem} />
        </div>
      )}
      <p className="hint">An admin token sees every page; a viewer token sees its team's spend. The token stays with the console's server.</p>
    </main>
  );
}
