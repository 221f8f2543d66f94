// Turns V8's allocation-site pretenuring off in the server, whose per-request objects it can mistake for long-lived ones.
//
// V8 counts, for each place in the code that allocates literals, how many of the objects made there since the last
// young-generation collection are still alive at the next; a place whose objects mostly survive is "tenured", and
// its objects are allocated in the old generation from then on, a decision V8 does not take back. A server's objects
// live until their answer is written, and V8 tenured some places in every run measured, during start-up and warm-up.
// Old objects that die are found dead only by a full collection; until then the young objects they point to survive
// and are promoted in turn. In about one benchmark run in six, from some moment on, every young collection took 3.3 to
// 4.6 ms instead of 0.8 and promoted about 2.7 MB instead of 40 KB, a full collection ran every second, and the server
// answered about a quarter fewer checks, for the rest of the process; with pretenuring off, in none of 28 runs
// (docs/performance.md, item 17).
import { setFlagsFromString } from "node:v8";

/** Stops V8 from tenuring allocation sites from now on; what it decided before stays. Idempotent. */
export function stopPretenuring(): void {
  setFlagsFromString("--no-allocation-site-pretenuring");
}
