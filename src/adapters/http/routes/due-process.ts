// Due process over HTTP: reviewers' sign-offs, subjects' objections and restoration requests, notices, and the subject's whole file.
import { z } from "zod";
import { readNotices } from "../../../app/notices.js";
import { decideObjection, fileObjection, listObjections, readObjection, type ObjectionView } from "../../../app/objections.js";
import { decideRestoration, listRestorations, readRestoration, requestRestoration } from "../../../app/restorations.js";
import { decideSignOff, listSignOffs, readSignOff } from "../../../app/sign-offs.js";
import { requireSubject } from "../../../app/statuses.js";
import { downloadFile } from "../../../app/subject-file.js";
import type { Restoration as RestorationT, SignOff as SignOffT } from "../../../core/due-process.js";
import type { Notice as NoticeT } from "../../../core/notices.js";
import { actorOf, mayReadFile } from "../../../core/roles.js";
import { formatInstant } from "../../../core/time.js";
import type { ReviewQuery } from "../../../storage/store.js";
import { KEYED, type Api, type Deps } from "../api.js";
import { refuse, requireRole } from "../auth.js";
import { DecisionId, errorResponses, SubjectId } from "../schemas.js";
import { Notice, Objection, Reasons, Restoration, ReviewPage, SignOff, SubjectFile } from "../due-process-schemas.js";
import { recordOut } from "./records.js";

const iso = (t: number | null) => (t === null ? null : formatInstant(t));
const signOffOut = (s: SignOffT) => ({ ...s, requestedAt: formatInstant(s.requestedAt), decidedAt: iso(s.decidedAt) });
const objectionOut = (o: ObjectionView) => ({ ...o, filedAt: formatInstant(o.filedAt), dueAt: formatInstant(o.dueAt), decidedAt: iso(o.decidedAt) });
const restorationOut = (r: RestorationT) => ({ ...r, requestedAt: formatInstant(r.requestedAt), decidedAt: iso(r.decidedAt) });
const noticeOut = (n: NoticeT) => ({ ...n, at: formatInstant(n.at) });

const SubjectParams = z.strictObject({ id: SubjectId });
const IdParams = z.strictObject({ id: z.string().min(1).max(100) });
/** A review queue's filter from the query string: the subject's ID normalised, absent fields left out. */
function reviewQuery<S extends string>(q: { state?: S | undefined; subject?: string | undefined; after?: string | undefined; limit: number }): ReviewQuery<S> {
  return { ...(q.state ? { state: q.state } : {}), ...(q.subject ? { subject: requireSubject(q.subject).id } : {}), ...(q.after ? { after: q.after } : {}), limit: q.limit };
}

const nextOf = <T>(items: readonly T[], limit: number, id: (t: T) => string) => (items.length === limit ? id(items[items.length - 1] as T) : null);

export function dueProcessRoutes(app: Api, { ctx }: Deps): void {
  /** The subject's normalised ID, once the caller is the subject itself or a reviewer. */
  const ownOrReviewer = (request: Parameters<typeof refuse>[0], raw: string, what: string): string => {
    const subject = requireSubject(raw).id;
    if (request.identity.role === "public" || !mayReadFile(request.identity, subject)) throw refuse(request, `${what} is for the subject (with their own key) or a reviewer`);
    return subject;
  };

  app.get(
    "/v1/sign-offs",
    {
      schema: {
        operationId: "listSignOffs",
        summary: "List entries waiting for (or given) a reviewer's sign-off",
        tags: ["due process"],
        security: KEYED,
        querystring: ReviewPage.extend({ state: z.enum(["pending", "approved", "rejected", "lapsed"]).optional() }),
        response: { 200: z.object({ signOffs: z.array(SignOff), next: z.string().nullable() }), ...errorResponses(403) },
      },
    },
    async (request) => {
      requireRole(request, "reviewer");
      const items = await listSignOffs(ctx, reviewQuery(request.query));
      const { limit } = request.query;
      return { signOffs: items.map(signOffOut), next: nextOf(items, limit, (s) => s.entry) };
    },
  );

  app.get(
    "/v1/sign-offs/:id",
    {
      schema: { operationId: "getSignOff", summary: "One sign-off", tags: ["due process"], security: KEYED, params: IdParams, response: { 200: SignOff, ...errorResponses(403, 404) } },
    },
    async (request) => {
      requireRole(request, "reviewer");
      return signOffOut(await readSignOff(ctx, request.params.id));
    },
  );

  app.post(
    "/v1/sign-offs/:id/decision",
    {
      schema: {
        operationId: "decideSignOff",
        summary: "Approve or reject a list entry that waits for sign-off",
        description: "Approved: the entry applies from now (its end never moves later), with notices of entry and measures. Rejected (reasons required): it never applies, and the subject is told why.",
        tags: ["due process"],
        security: KEYED,
        params: IdParams,
        body: z.strictObject({ approve: z.boolean(), reasons: Reasons }),
        response: { 200: z.object({ decisionId: DecisionId, signOff: SignOff }), ...errorResponses(403, 404, 409, 422) },
      },
    },
    async (request) => {
      const who = requireRole(request, "reviewer");
      const { signOff, decisionId } = await decideSignOff(ctx, actorOf(who), request.params.id, { approve: request.body.approve, ...(request.body.reasons !== undefined ? { reasons: request.body.reasons } : {}) });
      return { decisionId, signOff: signOffOut(signOff) };
    },
  );

  app.post(
    "/v1/subjects/:id/objections",
    {
      schema: {
        operationId: "fileObjection",
        summary: "Object to a record in the subject's file",
        description: "By the subject (or a reviewer at a credit office on their behalf). The record is marked disputed everywhere it shows, checks included, until a reviewer decides within the review period.",
        tags: ["due process"],
        security: KEYED,
        params: SubjectParams,
        body: z.strictObject({ record: z.string().min(1).max(300), statement: z.string().max(10_000), evidenceRef: z.string().max(1000).optional() }),
        response: { 201: z.object({ decisionId: DecisionId, objection: Objection }), ...errorResponses(403, 404, 409, 422) },
      },
    },
    async (request, reply) => {
      const subject = ownOrReviewer(request, request.params.id, "objecting to a record");
      const { objection, decisionId } = await fileObjection(ctx, actorOf(request.identity), subject, request.body);
      return reply.code(201).send({ decisionId, objection: objectionOut(objection) });
    },
  );

  app.get(
    "/v1/objections",
    {
      schema: {
        operationId: "listObjections",
        summary: "Objections, oldest id first; overdue ones flagged",
        tags: ["due process"],
        security: KEYED,
        querystring: ReviewPage.extend({
          state: z.enum(["open", "upheld", "dismissed"]).optional(),
          overdue: z.enum(["true", "false"]).optional().describe("true: only open objections past their deadline"),
        }),
        response: { 200: z.object({ objections: z.array(Objection), next: z.string().nullable() }), ...errorResponses(403) },
      },
    },
    async (request) => {
      requireRole(request, "reviewer");
      const { limit, overdue } = request.query;
      const items = await listObjections(ctx, { ...reviewQuery(request.query), ...(overdue === "true" ? { overdueAt: ctx.clock.now() } : {}) });
      return { objections: items.map(objectionOut), next: nextOf(items, limit, (o) => o.id) };
    },
  );

  app.get(
    "/v1/objections/:id",
    {
      schema: { operationId: "getObjection", summary: "One objection, for a reviewer or the subject who filed it", tags: ["due process"], security: KEYED, params: IdParams, response: { 200: Objection, ...errorResponses(403, 404) } },
    },
    async (request) => {
      const o = await readObjection(ctx, request.params.id);
      ownOrReviewer(request, o.subject, "an objection");
      return objectionOut(o);
    },
  );

  app.post(
    "/v1/objections/:id/decision",
    {
      schema: {
        operationId: "decideObjection",
        summary: "Uphold or dismiss an objection",
        description: "Upheld: the record is retracted (or corrected, when a correction is given) in the reviewer's name, the subject re-evaluated at once, and the subject and the source told. Dismissed: the record stands, no longer disputed, with the reasons told to the subject. Reasons are required both ways.",
        tags: ["due process"],
        security: KEYED,
        params: IdParams,
        body: z.strictObject({
          decision: z.enum(["uphold", "dismiss"]),
          reasons: z.string().max(10_000),
          correction: z.strictObject({ attributes: z.record(z.string(), z.unknown()).optional(), occurredAt: z.string().optional() }).optional(),
        }),
        response: { 200: z.object({ decisionId: DecisionId, objection: Objection }), ...errorResponses(403, 404, 409, 422) },
      },
    },
    async (request) => {
      const who = requireRole(request, "reviewer");
      const { objection, decisionId } = await decideObjection(ctx, actorOf(who), request.params.id, request.body);
      return { decisionId, objection: objectionOut(objection) };
    },
  );

  app.post(
    "/v1/subjects/:id/restorations",
    {
      schema: {
        operationId: "requestRestoration",
        summary: "Ask to leave a list early (credit restoration)",
        description: "Checked at once against the list's conditions (minimum period served, required records, a commitment). Refused with 409, the reasons and `possibleFrom` when the period is not yet served; otherwise queued for a reviewer.",
        tags: ["due process"],
        security: KEYED,
        params: SubjectParams,
        body: z.strictObject({ list: z.string().min(1).max(100), commitment: z.string().max(10_000).optional(), statement: z.string().max(10_000).optional() }),
        response: { 201: z.object({ decisionId: DecisionId, restoration: Restoration }), ...errorResponses(403, 409, 422) },
      },
    },
    async (request, reply) => {
      const subject = ownOrReviewer(request, request.params.id, "asking for restoration");
      const { restoration, decisionId } = await requestRestoration(ctx, actorOf(request.identity), subject, request.body);
      return reply.code(201).send({ decisionId, restoration: restorationOut(restoration) });
    },
  );

  app.get(
    "/v1/restorations",
    {
      schema: {
        operationId: "listRestorations",
        summary: "Restoration requests",
        tags: ["due process"],
        security: KEYED,
        querystring: ReviewPage.extend({ state: z.enum(["pending", "granted", "denied"]).optional() }),
        response: { 200: z.object({ restorations: z.array(Restoration), next: z.string().nullable() }), ...errorResponses(403) },
      },
    },
    async (request) => {
      requireRole(request, "reviewer");
      const items = await listRestorations(ctx, reviewQuery(request.query));
      const { limit } = request.query;
      return { restorations: items.map(restorationOut), next: nextOf(items, limit, (r) => r.id) };
    },
  );

  app.get(
    "/v1/restorations/:id",
    {
      schema: { operationId: "getRestoration", summary: "One restoration request, for a reviewer or the subject", tags: ["due process"], security: KEYED, params: IdParams, response: { 200: Restoration, ...errorResponses(403, 404) } },
    },
    async (request) => {
      const r = await readRestoration(ctx, request.params.id);
      ownOrReviewer(request, r.subject, "a restoration request");
      return restorationOut(r);
    },
  );

  app.post(
    "/v1/restorations/:id/decision",
    {
      schema: {
        operationId: "decideRestoration",
        summary: "Grant or deny a restoration request",
        description: "Granted: every entry of the list ends now, with every measure it triggered; every enforcer's next check sees it. Denied: reasons required, told to the subject.",
        tags: ["due process"],
        security: KEYED,
        params: IdParams,
        body: z.strictObject({ grant: z.boolean(), reasons: Reasons }),
        response: { 200: z.object({ decisionId: DecisionId, restoration: Restoration }), ...errorResponses(403, 404, 409, 422) },
      },
    },
    async (request) => {
      const who = requireRole(request, "reviewer");
      const { restoration, decisionId } = await decideRestoration(ctx, actorOf(who), request.params.id, { grant: request.body.grant, ...(request.body.reasons !== undefined ? { reasons: request.body.reasons } : {}) });
      return { decisionId, restoration: restorationOut(restoration) };
    },
  );

  app.get(
    "/v1/subjects/:id/notices",
    {
      schema: {
        operationId: "getNotices",
        summary: "The notices sent to a subject",
        description: "Every list entry and exit, measure start and end, sign-off, objection and restoration step, with reason, records, legal basis, deadline and how to object. The read is audited.",
        tags: ["due process"],
        security: KEYED,
        params: SubjectParams,
        querystring: z.strictObject({ after: z.coerce.number().int().min(0).optional().describe("Notices after this seq"), limit: z.coerce.number().int().min(1).max(1000).default(100) }),
        response: { 200: z.object({ decisionId: DecisionId, notices: z.array(Notice), next: z.number().int().nullable() }), ...errorResponses(403) },
      },
    },
    async (request) => {
      const subject = ownOrReviewer(request, request.params.id, "a subject's notices");
      const { after, limit } = request.query;
      const { notices, decisionId } = await readNotices(ctx, actorOf(request.identity), subject, { ...(after !== undefined ? { afterSeq: after } : {}), limit });
      return { decisionId, notices: notices.map(noticeOut), next: notices.length === limit ? (notices.at(-1)?.seq ?? null) : null };
    },
  );

  app.get(
    "/v1/subjects/:id/file",
    {
      schema: {
        operationId: "downloadFile",
        summary: "The subject's whole file as JSON",
        description: "Records with their history, the status with its explanation, notices, objections, restoration requests, sign-offs and who read the file: the subject's right of access. The download is audited.",
        tags: ["due process"],
        security: KEYED,
        params: SubjectParams,
        response: { 200: SubjectFile, ...errorResponses(403) },
      },
    },
    async (request, reply) => {
      const subject = ownOrReviewer(request, request.params.id, "a subject's file");
      const { file, decisionId } = await downloadFile(ctx, actorOf(request.identity), subject);
      reply.header("content-disposition", `attachment; filename="${subject}-file.json"`);
      return {
        decisionId,
        ...file,
        records: file.records.map((r) => ({ ...recordOut(r), history: r.history.map((h) => ({ ...h, at: formatInstant(h.at) })) })),
        notices: file.notices.map(noticeOut),
        objections: file.objections.map(objectionOut),
        restorations: file.restorations.map(restorationOut),
        signOffs: file.signOffs.map(signOffOut),
        accessLog: file.accessLog.map((e) => ({ ...e, at: formatInstant(e.at) })),
      };
    },
  );
}
