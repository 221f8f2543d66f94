// Delivers notices to an HTTP receiver: one JSON POST per notice, signed with HMAC-SHA256 when a secret is set.
import { createHmac } from "node:crypto";
import type { Notice } from "../../core/notices.js";
import { formatInstant } from "../../core/time.js";
import type { NoticeSender } from "../../app/notices.js";

export interface WebhookOptions {
  url: string;
  /** Shared secret: the receiver checks X-Social-Credit-Signature to know the notice came from this system. */
  secret?: string;
  timeoutMs?: number;
}

/** The JSON a receiver gets: the notice, with its sequence number as the id to deduplicate redeliveries by. */
export function noticePayload(n: Notice): Record<string, unknown> {
  return { id: n.seq, ...n, at: formatInstant(n.at) };
}

/** A sender that POSTs each notice and counts any 2xx answer as delivered. */
export function webhookSender(opts: WebhookOptions): NoticeSender {
  return async (notice) => {
    const body = JSON.stringify(noticePayload(notice));
    const headers: Record<string, string> = { "content-type": "application/json", "x-social-credit-notice": String(notice.seq) };
    if (opts.secret) headers["x-social-credit-signature"] = `sha256=${createHmac("sha256", opts.secret).update(body).digest("hex")}`;
    const res = await fetch(opts.url, { method: "POST", headers, body, signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000) });
    // The body is not needed, but must be consumed so the connection is released.
    await res.arrayBuffer().catch(() => undefined);
    if (!res.ok) throw new Error(`the receiver answered ${res.status} ${res.statusText}`);
  };
}
