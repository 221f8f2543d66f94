// Admins create, list and revoke API keys; a new key is shown once.
import { z } from "zod";
import { createKey, listKeys, revokeKey } from "../../../app/keys.js";
import { formatInstant } from "../../../core/time.js";
import type { ApiKeyRecord } from "../../../storage/store.js";
import { KEYED, type Api, type Deps } from "../api.js";
import { requireRole } from "../auth.js";
import { errorResponses, KeyInfo, KeySpec } from "../schemas.js";

const keyOut = (k: Omit<ApiKeyRecord, "secretHash">) => ({
  id: k.id,
  role: k.role,
  source: k.source,
  measures: k.measures,
  subject: k.subject,
  label: k.label,
  createdAt: formatInstant(k.createdAt),
  createdBy: k.createdBy,
  revokedAt: k.revokedAt === null ? null : formatInstant(k.revokedAt),
});

export function keyRoutes(app: Api, { ctx }: Deps): void {
  app.get(
    "/v1/keys",
    {
      schema: { operationId: "listKeys", summary: "Every API key, revoked ones included (never their secrets)", tags: ["keys"], security: KEYED, response: { 200: z.object({ keys: z.array(KeyInfo) }), ...errorResponses(403) } },
    },
    async (request) => {
      requireRole(request, "admin");
      return { keys: (await listKeys(ctx)).map(keyOut) };
    },
  );

  app.post(
    "/v1/keys",
    {
      schema: {
        operationId: "createKey",
        summary: "Create an API key with a role and scope",
        description: "The response holds the key itself, once; only its hash is stored.",
        tags: ["keys"],
        security: KEYED,
        body: KeySpec,
        response: { 201: KeyInfo.extend({ key: z.string().describe("The bearer key; shown only now") }), ...errorResponses(403, 409, 415) },
      },
    },
    async (request, reply) => {
      const admin = requireRole(request, "admin");
      const { key, record } = await createKey(ctx, `key:${admin.keyId}`, request.body);
      const { secretHash: _h, ...info } = record;
      return reply.code(201).send({ ...keyOut(info), key });
    },
  );

  app.delete(
    "/v1/keys/:id",
    {
      schema: {
        operationId: "revokeKey",
        summary: "Revoke an API key; its next request is refused",
        tags: ["keys"],
        security: KEYED,
        params: z.strictObject({ id: z.string().regex(/^[0-9a-f]{16}$/, "a key id is 16 hexadecimal digits") }),
        response: { 204: z.null().describe("Revoked"), ...errorResponses(403, 404, 409) },
      },
    },
    async (request, reply) => {
      const admin = requireRole(request, "admin");
      await revokeKey(ctx, `key:${admin.keyId}`, request.params.id);
      return reply.code(204).send(null);
    },
  );
}
