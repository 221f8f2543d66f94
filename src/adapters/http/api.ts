// What every route module is given: the typed Fastify instance and the application it serves.
import type { FastifyBaseLogger, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import type { AppContext } from "../../app/context.js";
import type { Metrics } from "./metrics.js";

export type Api = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, ZodTypeProvider>;

export interface Deps {
  ctx: AppContext;
  metrics: Metrics;
  /** Re-evaluates what a rulebook change or the passing of time made due, in the background. */
  sweepSoon(): void;
}

/** OpenAPI security requirement of routes that need a key. */
export const KEYED = [{ bearer: [] }];
/** OpenAPI security requirement of public routes. */
export const OPEN: never[] = [];
