// What the NATS tests share: whether the JetStream server is there (failing loudly on CI when it is not), a unique prefix per test, and cleanup.
import { randomBytes } from "node:crypto";
import { connect as tcpConnect } from "node:net";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { feedNames } from "../../../src/adapters/nats/names.js";

export const NATS_URL = process.env.NATS_URL ?? "nats://127.0.0.1:4222";

/** True when something accepts connections at the NATS address. */
function portOpen(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = tcpConnect({ host: hostname, port: Number(port || 4222), timeout: 1000 });
    socket.once("connect", () => (socket.destroy(), resolve(true)));
    socket.once("error", () => resolve(false));
    socket.once("timeout", () => (socket.destroy(), resolve(false)));
  });
}

/**
 * Whether the NATS tests can run. On CI a missing server is an error (CI starts one: .ci/run), never a silent skip;
 * elsewhere the tests are skipped with a message saying how to start it.
 */
export async function natsUp(): Promise<boolean> {
  if (await portOpen(NATS_URL)) return true;
  const how = "start it with: nats-server -a 127.0.0.1 -p 4222 -js (Debian package nats-server; .ci/run does this)";
  if (process.env.CI) throw new Error(`CI is set and no NATS server answers at ${NATS_URL}: the NATS feed tests cannot run; ${how}`);
  console.warn(`skipping the NATS feed tests: no NATS server at ${NATS_URL}; ${how}`);
  return false;
}

/** A prefix no other test (or earlier run) uses, so that tests running at once do not share streams. */
export const uniquePrefix = (label: string) => `t${label}${randomBytes(4).toString("hex")}`;

/** Deletes the feed's streams under a prefix (and with them their consumers). */
export async function removeFeedStreams(nc: NatsConnection, prefix: string): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const names = feedNames(prefix);
  for (const s of [names.recordsStream, names.deadStream, names.receiptsStream]) await jsm.streams.delete(s).catch(() => false);
}

export const connectTest = () => connect({ servers: NATS_URL, name: "social-credit tests" });
