// The baseline: a bare Fastify with nothing registered, answering a hello-world route and echoing a batch of checks.
import { randomUUID } from "node:crypto";
import Fastify from "fastify";
import { serve } from "./serve.js";

const app = Fastify({ logger: false, bodyLimit: 8 * 1024 * 1024 });

app.get("/hello", async () => ({ hello: "world" }));

// What answering a batch costs with no work behind it: parse the same body, return decisions of the same shape.
app.post("/checks", async (request) => {
  const { checks } = request.body as { checks: { subject: string; measure: string }[] };
  const at = new Date().toISOString();
  return { decisions: checks.map((c) => ({ decisionId: randomUUID(), subject: c.subject, measure: c.measure, applies: false, at, reasons: [] })) };
});

await serve(app);
