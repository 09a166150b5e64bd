import createClient, { type Middleware } from "openapi-fetch";
import type { paths as BudgetsPaths } from "./generated/budgets";
import type { paths as BillingPaths } from "./generated/billing";
import { ProblemError, problemOf, unreachable } from "./problem";

/**
 * The services' APIs as the console host forwards them (/api/{service}/…, bearer token added by the host from the
 * session cookie). Page scripts never hold the token; a state-changing call carries the session's CSRF value.
 */
let csrf = "";
export function setCsrfToken(token: string): void {
  csrf = token;
}

const safeMethods = new Set(["GET", "HEAD", "OPTIONS"]);
const csrfHeader: Middleware = {
  onRequest({ request }) {
    if (!safeMethods.has(request.method.toUpperCase()) && csrf) request.headers.set("X-CSRF-TOKEN", csrf);
    return request;
  },
};

export const budgets = createClient<BudgetsPaths>({ baseUrl: "/api/budgets" });
export const billing = createClient<BillingPaths>({ baseUrl: "/api/billing" });
budgets.use(csrfHeader);
billing.use(csrfHeader);

/** Listeners told when an API answers 401: the session ended (signed out elsewhere, expired). */
const sessionEnded = new Set<() => void>();
export function onSessionEnded(listener: () => void): () => void {
  sessionEnded.add(listener);
  return () => sessionEnded.delete(listener);
}

type Answer<T> = { data?: T; error?: unknown; response: Response };

/** The answer's data, or a ProblemError with the API's problem+json. */
export async function unwrap<T>(call: Promise<Answer<T>>): Promise<T> {
  let answer: Answer<T>;
  try {
    answer = await call;
  } catch (error) {
    if (error instanceof DOMException && error.name === "AbortError") throw error;
    throw new ProblemError(unreachable());
  }
  if (answer.response.ok && answer.data !== undefined) return answer.data;
  if (answer.response.status === 401) sessionEnded.forEach((listener) => listener());
  throw new ProblemError(problemOf(answer.response.status, answer.error, answer.response.statusText));
}

/**
 * GET of a path with query parameters the service reads but its OpenAPI document does not declare (so openapi-fetch
 * would not accept them), answered with a generated schema type.
 */
export async function getJson<T>(path: string, query: Record<string, string | undefined>, signal?: AbortSignal): Promise<T> {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value !== undefined && value !== "") params.set(name, value);
  const url = params.size > 0 ? `${path}?${params}` : path;
  return unwrap<T>(
    fetch(url, { signal, headers: { Accept: "application/json" } }).then(async (response) => {
      const body: unknown = await response.json().catch(() => undefined);
      return response.ok ? { data: body as T, response } : { error: body, response };
    }),
  );
}
