// The HTTP API: Fastify with validated routes, API-key identities, rate limits, problem+json errors, metrics and an OpenAPI 3.1 document.
import { readFileSync } from "node:fs";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import Fastify, { type FastifyReply, type FastifyRequest, type FastifyServerOptions, type onResponseHookHandler } from "fastify";
import { createJsonSchemaTransform, jsonSchemaTransformObject, type ZodTypeProvider } from "fastify-type-provider-zod";
import { startBackground, type BackgroundOptions } from "../../app/background.js";
import type { AppContext } from "../../app/context.js";
import { actorOf, type Identity } from "../../core/roles.js";
import type { Api, Deps } from "./api.js";
import { identify, PUBLIC } from "./auth.js";
import { createMetrics } from "./metrics.js";
import { policyField, RateLimiter, standingField } from "./rate-limit.js";
import { stopPretenuring } from "./pretenuring.js";
import { keepTickShape } from "./tick-shape.js";
import { serializer } from "./serialization.js";
import { validator } from "./validation.js";
import { errorHandler, HttpProblem, sendProblem } from "./problems.js";
import { auditRoutes } from "./routes/audit.js";
import { checkRoutes } from "./routes/checks.js";
import { dueProcessRoutes } from "./routes/due-process.js";
import { publicRoutes } from "./routes/public.js";
import { healthRoutes } from "./routes/health.js";
import { keyRoutes } from "./routes/keys.js";
import { recordRoutes } from "./routes/records.js";
import { rulebookRoutes } from "./routes/rulebooks.js";
import { simulateRoutes } from "./routes/simulate.js";
import { subjectRoutes } from "./routes/subjects.js";

export interface ServerOptions {
  /** Pino logger options, or false for none (tests, benchmarks). */
  logger?: FastifyServerOptions["logger"];
  /** Largest request body in bytes. */
  bodyLimit?: number;
  /** Requests per minute allowed to each key, and to each address without a key. */
  rateLimit?: { perKey: number; anonymous: number };
  background?: BackgroundOptions;
}

export const DEFAULTS = {
  bodyLimit: 8 * 1024 * 1024,
  rateLimit: { perKey: 60_000, anonymous: 600 },
  background: { sweepEveryMs: 60_000 },
} as const;

/** The rate limits' window: allowances are per minute. */
const RATE_WINDOW_MS = 60_000;

const version = (JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as { version: string }).version;

/** Builds the server (not yet listening); background jobs start with it and stop when it closes. */
export async function buildServer(ctx: AppContext, options: ServerOptions = {}): Promise<Api> {
  keepTickShape();
  stopPretenuring();
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: options.bodyLimit ?? DEFAULTS.bodyLimit,
    // Unknown query fields are refused by the schemas; the rest of the defaults (prototype-poisoning protection) stay.
    routerOptions: { ignoreTrailingSlash: true },
  }).withTypeProvider<ZodTypeProvider>();

  // Only JSON (and NDJSON where a route adds it) is accepted; a text/plain body is refused with 415, not read as something else.
  app.removeContentTypeParser("text/plain");
  app.setValidatorCompiler(validator);
  // Handlers return typed domain objects; the schemas document them, and compile their writers where they are plain.
  app.setSerializerCompiler(serializer);
  app.setErrorHandler(errorHandler);
  const metrics = createMetrics(ctx);
  const unmatched = metrics.route("unmatched");
  app.setNotFoundHandler((request, reply) => {
    // Not a route, so no route's hook measures it: counted here, as it is answered.
    unmatched.done(request.method, 404, reply.elapsedTime);
    return sendProblem(reply, request, 404, "not-found", `no route ${request.method} ${request.url.split("?")[0]}; the API is described at /openapi.json and /docs`);
  });

  const background = startBackground(ctx, options.background ?? DEFAULTS.background, app.log);
  const deps: Deps = { ctx, metrics, sweepSoon: () => void background.kick() };

  // Set by the first hook of every request; Fastify wants reference-typed decorations to start as null.
  app.decorateRequest("identity", null as never);
  const limits = options.rateLimit ?? DEFAULTS.rateLimit;
  const limiter = new RateLimiter(RATE_WINDOW_MS);
  // Keys are counted each by itself, callers without one by address: two policies, named so in the header fields.
  const policies = { key: policyField("key", limits.perKey, RATE_WINDOW_MS), address: policyField("address", limits.anonymous, RATE_WINDOW_MS) };
  /** Counts the request against its key (or its address, without a valid key) and says why it is refused, if it is. */
  const admit = (request: FastifyRequest, reply: FastifyReply, identity: Identity, refusal?: unknown): Error | undefined => {
    request.identity = identity;
    const keyed = identity.role !== "public";
    const a = limiter.take(keyed ? actorOf(identity) : `ip:${request.ip}`, keyed ? limits.perKey : limits.anonymous);
    const resetS = Math.ceil(a.resetInMs / 1000);
    const policy = keyed ? "key" : "address";
    reply.header("ratelimit", standingField(policy, a.remaining, resetS));
    if (a.windowStarted || !a.allowed) reply.header("ratelimit-policy", policies[policy]);
    if (!a.allowed) {
      return new HttpProblem(429, "rate-limited", `more than ${a.limit} requests in a minute from this ${policy}; retry in ${resetS} s`, [], { "retry-after": String(resetS) });
    }
    return refusal as Error | undefined;
  };
  // One callback hook rather than async ones: on the check route every promise shows. A bad key is refused only after
  // the request has counted against its address, so guessing keys is limited too.
  app.addHook("onRequest", (request, reply, done) => {
    let found: Identity | Promise<Identity>;
    try {
      found = identify(ctx, request);
    } catch (e) {
      done(admit(request, reply, PUBLIC, e));
      return;
    }
    if (found instanceof Promise) found.then((identity) => done(admit(request, reply, identity)), (e: unknown) => done(admit(request, reply, PUBLIC, e)));
    else done(admit(request, reply, found));
  });
  // Each route's own hook knows its path, rather than asking request.routeOptions (an object built on every call).
  app.addHook("onRoute", (route) => {
    const meter = metrics.route(route.url);
    const measured: onResponseHookHandler = (request, reply, done) => {
      meter.done(request.method, reply.statusCode, reply.elapsedTime);
      done();
    };
    route.onResponse = [...(route.onResponse === undefined ? [] : Array.isArray(route.onResponse) ? route.onResponse : [route.onResponse]), measured];
  });
  app.addHook("onReady", async () => {
    // Whatever ran out or waited for delivery while the server was down is handled at once, not at the first tick.
    const opts: BackgroundOptions = options.background ?? DEFAULTS.background;
    if (opts.sweepEveryMs > 0) void background.kick();
    if (opts.notices) void background.deliver();
  });
  app.addHook("onClose", async () => {
    await background.stop();
  });

  await app.register(swagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "social-credit",
        version,
        description:
          "Agencies report records; the published rulebook turns them into scores, grades, lists and measures; enforcers check them. Every write, check and read of a subject's file is recorded in a hash-chained audit log, and every error is application/problem+json (RFC 9457).",
        license: { name: "Apache-2.0", identifier: "Apache-2.0" },
      },
      components: { securitySchemes: { bearer: { type: "http", scheme: "bearer", description: "An API key from `social-credit keys create` or POST /v1/keys" } } },
      tags: [
        { name: "records", description: "Agencies submit records" },
        { name: "subjects", description: "A subject's file" },
        { name: "checks", description: "Enforcers check measures" },
        { name: "rulebooks", description: "The published rulebook" },
        { name: "keys", description: "API keys" },
        { name: "audit", description: "The audit log" },
        { name: "due process", description: "Sign-offs, objections, restoration, notices and the subject's file" },
        { name: "public", description: "Open data: the public lists and statistics" },
        { name: "operations", description: "Health, readiness, metrics" },
      ],
    },
    transform: createJsonSchemaTransform({ skipList: ["/openapi.json", "/docs", "/docs/*", "/docs/static/*", "/docs/json", "/docs/yaml", "/docs/uiConfig", "/docs/initOAuth"] }),
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(swaggerUi, { routePrefix: "/docs", uiConfig: { docExpansion: "list", deepLinking: true } });
  app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());

  healthRoutes(app, deps);
  recordRoutes(app, deps);
  subjectRoutes(app, deps);
  checkRoutes(app, deps);
  rulebookRoutes(app, deps);
  simulateRoutes(app, deps);
  keyRoutes(app, deps);
  auditRoutes(app, deps);
  dueProcessRoutes(app, deps);
  publicRoutes(app, deps);
  return app;
}
