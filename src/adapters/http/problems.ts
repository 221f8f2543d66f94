// Every error the API returns is RFC 9457 problem details (application/problem+json) naming what to fix.
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { hasZodFastifySchemaValidationErrors } from "fastify-type-provider-zod";
import { UserError, type FieldProblem, type RefusalKind } from "../../app/errors.js";

/** A refusal decided in the HTTP adapter itself: authentication, permissions, body shape. */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly slug: string,
    message: string,
    readonly errors: readonly FieldProblem[] = [],
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

const TITLES: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  422: "Unprocessable Content",
  429: "Too Many Requests",
  500: "Internal Server Error",
  503: "Service Unavailable",
};

const BY_KIND: Record<RefusalKind, number> = { invalid: 400, "not-found": 404, forbidden: 403, conflict: 409 };

/** Sends a problem response. */
export function sendProblem(reply: FastifyReply, request: FastifyRequest, status: number, slug: string, detail: string, errors: readonly FieldProblem[] = [], facts: Record<string, unknown> = {}) {
  return reply
    .code(status)
    .type("application/problem+json")
    .send({
      type: `urn:social-credit:problem:${slug}`,
      title: TITLES[status] ?? "Error",
      status,
      detail,
      instance: request.url.split("?")[0],
      ...(errors.length > 0 ? { errors } : {}),
      ...facts,
    });
}

/** Turns anything thrown while handling a request into a problem; unexpected errors are logged and hidden. */
export function errorHandler(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) {
  if (error instanceof HttpProblem) {
    reply.headers(error.headers);
    return sendProblem(reply, request, error.status, error.slug, error.message, error.errors);
  }
  if (error instanceof UserError) {
    // Content that parsed but is wrong (a bad checksum in record 3) is 422; a wrong parameter is 400.
    const status = error.kind === "invalid" && error.problems.length > 0 ? 422 : BY_KIND[error.kind];
    const slug = error.kind === "invalid" ? "invalid-input" : error.kind;
    return sendProblem(reply, request, status, slug, error.message, error.problems, error.facts);
  }
  if (hasZodFastifySchemaValidationErrors(error)) {
    const part = (error as FastifyError).validationContext ?? "request";
    const errors = error.validation.map((v) => ({
      pointer: v.instancePath === "/" ? "" : v.instancePath,
      detail: (v.keyword === "unrecognized_keys" ? `unknown field${(v.params.keys as string[]).length > 1 ? "s" : ""} ${(v.params.keys as string[]).join(", ")}` : v.message) ?? "invalid",
    }));
    return sendProblem(reply, request, 400, "invalid-request", `the ${part} does not match the schema: ${errors.map((e) => `${e.pointer || part}: ${e.detail}`).join("; ")}`, errors);
  }
  const fe = error as FastifyError;
  if (fe.code === "FST_ERR_CTP_BODY_TOO_LARGE") return sendProblem(reply, request, 413, "body-too-large", `the body is larger than the ${request.routeOptions.bodyLimit ?? ""} bytes this server accepts; send fewer records per request`);
  if (fe.code === "FST_ERR_CTP_INVALID_MEDIA_TYPE") return sendProblem(reply, request, 415, "unsupported-media-type", `content type ${request.headers["content-type"] ?? "(none)"} is not accepted here; send application/json${request.url.startsWith("/v1/records") ? " or application/x-ndjson" : ""}`);
  if (fe.code === "FST_ERR_CTP_EMPTY_JSON_BODY") return sendProblem(reply, request, 400, "malformed-json", "the body is empty; send a JSON document");
  if (fe.statusCode === 400 && (fe.code?.startsWith("FST_ERR_CTP") || error instanceof SyntaxError)) {
    return sendProblem(reply, request, 400, "malformed-json", `the body is not valid JSON: ${error.message}`);
  }
  if (fe.statusCode !== undefined && fe.statusCode >= 400 && fe.statusCode < 500) return sendProblem(reply, request, fe.statusCode, "bad-request", error.message);
  request.log.error({ err: error }, "request failed");
  return sendProblem(reply, request, 500, "internal", `the server failed to handle the request; the error is in its log under request id ${request.id}`);
}
