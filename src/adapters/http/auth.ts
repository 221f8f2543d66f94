// Who is calling: the bearer key is resolved to an identity before anything else, and routes ask for the role they need.
import type { FastifyRequest } from "fastify";
import type { AppContext } from "../../app/context.js";
import { authenticate, rememberedIdentity } from "../../app/keys.js";
import { aRole, type Identity } from "../../core/roles.js";
import { HttpProblem } from "./problems.js";

declare module "fastify" {
  interface FastifyRequest {
    identity: Identity;
  }
}

export const PUBLIC: Identity = { role: "public" };
const CHALLENGE = { "www-authenticate": 'Bearer realm="social-credit"' };

/**
 * Resolves the Authorization header: none is the public; a malformed, unknown or revoked key is refused outright.
 * A key that authenticated lately is answered at once, without a promise: that is nearly every request.
 */
export function identify(ctx: AppContext, request: FastifyRequest): Identity | Promise<Identity> {
  const header = request.headers.authorization;
  if (header === undefined) return PUBLIC;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!m) throw new HttpProblem(401, "unauthenticated", "the Authorization header must be `Bearer <key>`", [], CHALLENGE);
  const key = m[1] as string;
  return rememberedIdentity(ctx, key) ?? authenticate(ctx, key).then((identity) => identity ?? Promise.reject(invalidKey()));
}

const invalidKey = () =>
  new HttpProblem(401, "unauthenticated", "the API key is unknown, malformed or revoked", [], { "www-authenticate": 'Bearer realm="social-credit", error="invalid_token"' });

type Keyed = Exclude<Identity, { role: "public" }>;

/** The caller's identity if it holds one of the roles; 401 for the public, 403 for another role. */
export function requireRole<R extends Keyed["role"]>(request: FastifyRequest, ...roles: R[]): Extract<Identity, { role: R }> {
  const id = request.identity;
  if (id.role === "public") throw new HttpProblem(401, "unauthenticated", `this needs an API key (role ${roles.join(" or ")})`, [], CHALLENGE);
  if (!(roles as string[]).includes(id.role)) throw forbidden(`${aRole(id.role)} key may not do this; it needs the role ${roles.join(" or ")}`);
  return id as Extract<Identity, { role: R }>;
}

/** Refuses an authenticated caller, saying why. */
export function forbidden(detail: string, errors: HttpProblem["errors"] = []): HttpProblem {
  return new HttpProblem(403, "forbidden", detail, errors);
}

/** 401 for the public, 403 for any key: for reads where no role fits in general but a scope may. */
export function refuse(request: FastifyRequest, detail: string): HttpProblem {
  return request.identity.role === "public" ? new HttpProblem(401, "unauthenticated", `this needs an API key: ${detail}`, [], CHALLENGE) : forbidden(detail);
}
