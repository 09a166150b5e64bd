/**
 * Per-row data a long list loads only for the rows on screen (a tenant's spend and forecast): each key is loaded at
 * most once and kept, at most `concurrency` loads run at a time, and keys that scrolled away before their turn are not
 * loaded at all. Loads are started in the order the rows were last asked for, so the rows in view come first.
 */
export type RowLoad<T> = { state: "loading" } | { state: "error"; title: string } | { state: "ok"; data: T };

export class RowLoads<T> {
  private readonly done = new Map<string, RowLoad<T>>();
  private readonly running = new Set<string>();
  private waiting: string[] = [];
  private readonly listeners = new Set<() => void>();
  private readonly abort = new AbortController();
  private version = 0;

  constructor(
    private readonly load: (key: string, signal: AbortSignal) => Promise<T>,
    private readonly concurrency: number,
  ) {}

  /** The rows now wanted, in the order they should load; any waiting key not among them is dropped. */
  want(keys: readonly string[]): void {
    this.waiting = keys.filter((key) => !this.done.has(key) && !this.running.has(key));
    this.pump();
  }

  get(key: string): RowLoad<T> {
    return this.done.get(key) ?? { state: "loading" };
  }

  /** How many keys are loaded (or failed), loading, and waiting: for the page's progress line and the tests. */
  counts(): { done: number; running: number; waiting: number } {
    return { done: this.done.size, running: this.running.size, waiting: this.waiting.length };
  }

  /** For useSyncExternalStore: a number that changes whenever a load ends. */
  snapshot = (): number => this.version;

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  /** Stops every running load and starts none again (the page went away or its filters changed). */
  close(): void {
    this.abort.abort();
    this.waiting = [];
  }

  private pump(): void {
    while (this.running.size < this.concurrency && this.waiting.length > 0 && !this.abort.signal.aborted) {
      const key = this.waiting.shift()!;
      this.running.add(key);
      this.load(key, this.abort.signal).then(
        (data) => this.finish(key, { state: "ok", data }),
        (error: unknown) => this.finish(key, { state: "error", title: titleOf(error) }),
      );
    }
  }

  private finish(key: string, load: RowLoad<T>): void {
    this.running.delete(key);
    if (this.abort.signal.aborted) return;
    this.done.set(key, load);
    this.version++;
    this.listeners.forEach((listener) => listener());
    this.pump();
  }
}

function titleOf(error: unknown): string {
  if (typeof error === "object" && error !== null && "problem" in error) {
    const problem = (error as { problem: { title?: string; status?: number } }).problem;
    return problem.status ? `${problem.title} (${problem.status})` : String(problem.title);
  }
  return String(error);
}
