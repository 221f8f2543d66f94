// How a server child reports that it listens, profiles on request and closes when the benchmark says so (see
// startChild in ../harness.ts).
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import type { FastifyInstance } from "fastify";
import type { ChildReply, ParentMessage } from "../harness.js";

/** Listens on a free loopback port, tells the parent which, and serves until told to stop; then the process ends by itself. */
export async function serve(
  app: Pick<FastifyInstance, "listen" | "close" | "server">,
  hooks: { cleanup?: () => Promise<void>; stats?: () => Record<string, number> } = {},
): Promise<void> {
  const send = process.send?.bind(process);
  if (!send) throw new Error("a benchmark server runs as a child of bench/run.ts, with an IPC channel");
  const reply = (m: ChildReply) => send(m);
  await app.listen({ port: 0, host: "127.0.0.1" });
  const address = app.server.address();
  if (address === null || typeof address === "string") throw new Error(`unexpected server address ${String(address)}`);

  // A CPU profile of exactly the measured part of a run, rather than of the whole process with its start-up.
  let session: Session | undefined;
  const handle = async (m: ParentMessage): Promise<void> => {
    if (m.kind === "profile-start") {
      session = new Session();
      session.connect();
      await session.post("Profiler.enable");
      // Every 100 µs rather than the default 1 ms: a check takes about that long.
      await session.post("Profiler.setSamplingInterval", { interval: 100 });
      await session.post("Profiler.start");
      reply({ kind: "profiling" });
    } else if (m.kind === "profile-stop") {
      if (!session) throw new Error("profile-stop without profile-start");
      const { profile } = await session.post("Profiler.stop");
      session.disconnect();
      session = undefined;
      writeFileSync(m.file, JSON.stringify(profile));
      reply({ kind: "profiled", file: m.file });
    } else if (m.kind === "stats") {
      reply({ kind: "stats", stats: hooks.stats?.() ?? {} });
    } else {
      await app.close();
      await hooks.cleanup?.();
      process.disconnect();
    }
  };
  process.on("message", (m) => void handle(m as ParentMessage));
  reply({ kind: "listening", port: address.port });
}
