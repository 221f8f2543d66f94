// Per-key and per-address request allowances: a fixed window per caller, counted synchronously on every request.
//
// Counted here rather than by @fastify/rate-limit: that plugin awaits four promises per request (key, allowance,
// store, hook), and on the check route, the API's hottest, that cost a twentieth of the throughput the benchmark
// measures (docs/performance.md). What it did is kept: a window that starts at a caller's first request, the caller's
// standing on every answer (in the IETF draft's RateLimit fields, see standingField and policyField), and 429 with
// Retry-After past the allowance.

/** A caller's standing after counting one more request. */
export interface Allowance {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Milliseconds until the caller's window ends and its count starts again. */
  resetInMs: number;
  /** Whether this request began the caller's window. */
  windowStarted: boolean;
}

interface Window {
  count: number;
  endsAt: number;
}

/** Callers remembered at most; past it, those whose window has ended are forgotten first, then the oldest. */
const MAX_CALLERS = 10_000;

/** Counts requests per caller in windows of `windowMs`, each starting at the caller's first request after the last one ended. */
export class RateLimiter {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts one request of `caller`, allowed `limit` per window. */
  take(caller: string, limit: number): Allowance {
    const now = this.now();
    let w = this.windows.get(caller);
    let windowStarted = false;
    if (w === undefined || w.endsAt <= now) {
      if (w === undefined && this.windows.size >= MAX_CALLERS) this.forget(now);
      w = { count: 0, endsAt: now + this.windowMs };
      this.windows.set(caller, w);
      windowStarted = true;
    }
    w.count++;
    return { allowed: w.count <= limit, limit, remaining: Math.max(0, limit - w.count), resetInMs: w.endsAt - now, windowStarted };
  }

  /** Makes room: ended windows go; if none had ended, the oldest tenth. A forgotten caller starts a fresh window. */
  private forget(now: number): void {
    for (const [caller, w] of this.windows) if (w.endsAt <= now) this.windows.delete(caller);
    if (this.windows.size < MAX_CALLERS) return;
    let drop = Math.ceil(MAX_CALLERS / 10);
    for (const caller of this.windows.keys()) {
      if (drop-- === 0) break;
      this.windows.delete(caller);
    }
  }
}

// Where a caller stands, in the header fields of draft-ietf-httpapi-ratelimit-headers: `RateLimit` on every answer, and
// `RateLimit-Policy` with the first answer of each window and with every refusal (see the server's hook). One field
// per answer rather than the three x-ratelimit-* ones: Node writes each header field with checks of its own, and on a
// bare Fastify route three such fields cost 6-10% of a request (docs/performance.md, item 16).

/** The `RateLimit` field: requests left in the window of the named policy, and seconds until the count starts again. */
export function standingField(policy: string, remaining: number, resetS: number): string {
  return `"${policy}";r=${remaining};t=${resetS}`;
}

/** The `RateLimit-Policy` field: the named policy's quota per window, and the window in seconds. */
export function policyField(policy: string, limit: number, windowMs: number): string {
  return `"${policy}";q=${limit};w=${Math.round(windowMs / 1000)}`;
}
