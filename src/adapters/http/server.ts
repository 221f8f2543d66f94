// The HTTP API: Fastify with validated routes, API-key identities, rate limits, problem+json errors, metrics and an OpenAPI 3.1 document.
import { readFileSync } from "node:fs";
import rateLimit from "@fastify/rate-limit";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import Fastify, { type FastifyServerOptions } from "fastify";
import { createJsonSchemaTransform, jsonSchemaTransformObject, validatorCompiler, type ZodTypeProvider } from "fastify-type-provider-zod";
import { startBackground, type BackgroundOptions } from "../../app/background.js";
import type { AppContext } from "../../app/context.js";
import type { Api, Deps } from "./api.js";
import { identify, PUBLIC } from "./auth.js";
import { createMetrics } from "./metrics.js";
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

const version = (JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as { version: string }).version;

/** Builds the server (not yet listening); background jobs start with it and stop when it closes. */
export async function buildServer(ctx: AppContext, options: ServerOptions = {}): Promise<Api> {
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: options.bodyLimit ?? DEFAULTS.bodyLimit,
    // Unknown query fields are refused by the schemas; the rest of the defaults (prototype-poisoning protection) stay.
    routerOptions: { ignoreTrailingSlash: true },
  }).withTypeProvider<ZodTypeProvider>();

  // Only JSON (and NDJSON where a route adds it) is accepted; a text/plain body is refused with 415, not read as something else.
  app.removeContentTypeParser("text/plain");
  app.setValidatorCompiler(validatorCompiler);
  // Handlers return typed domain objects; the schemas document them and JSON.stringify writes them.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((request, reply) => sendProblem(reply, request, 404, "not-found", `no route ${request.method} ${request.url.split("?")[0]}; the API is described at /openapi.json and /docs`));

  const metrics = createMetrics(ctx);
  const background = startBackground(ctx, options.background ?? DEFAULTS.background, app.log);
  const deps: Deps = { ctx, metrics, sweepSoon: () => void background.kick() };

  // Set by the first hook of every request; Fastify wants reference-typed decorations to start as null.
  app.decorateRequest("identity", null as never);
  app.decorateRequest("refusal", undefined);
  // A bad key is refused only after the rate limit has counted the request against its address, so guessing keys is limited too.
  app.addHook("onRequest", async (request) => {
    try {
      request.identity = await identify(ctx, request);
    } catch (e) {
      request.identity = PUBLIC;
      request.refusal = e;
    }
  });
  app.addHook("preValidation", async (request) => {
    if (request.refusal !== undefined) throw request.refusal;
  });
  app.addHook("onResponse", async (request, reply) => {
    const route = request.routeOptions.url ?? "unmatched";
    metrics.requests.inc({ method: request.method, route, status: String(reply.statusCode) });
    metrics.requestSeconds.observe({ method: request.method, route }, reply.elapsedTime / 1000);
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

  const limits = options.rateLimit ?? DEFAULTS.rateLimit;
  await app.register(rateLimit, {
    global: true,
    // After authentication, so that the limit is per key and a bad key cannot spend a good key's allowance.
    hook: "preParsing",
    timeWindow: 60_000,
    keyGenerator: (request) => (request.identity && request.identity.role !== "public" ? `key:${request.identity.keyId}` : `ip:${request.ip}`),
    max: (request) => (request.identity && request.identity.role !== "public" ? limits.perKey : limits.anonymous),
    errorResponseBuilder: (request, context) =>
      new HttpProblem(429, "rate-limited", `more than ${context.max} requests in a minute from this ${request.identity.role === "public" ? "address" : "key"}; retry in ${context.after}`, [], {
        "retry-after": String(Math.ceil(context.ttl / 1000)),
      }),
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
