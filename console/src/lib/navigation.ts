/**
 * Where to go after sign-in: only a path of this console (the `next` the sign-in redirect carried), never another
 * site — "//host", "/\host" and "https://…" all mean the overview.
 */
export function safeNext(next: string | null): string {
  if (!next || !next.startsWith("/") || next.startsWith("//") || next.startsWith("/\\")) return "/";
  try {
    return new URL(next, "http://console.invalid").origin === "http://console.invalid" ? next : "/";
  } catch {
    return "/";
  }
}
