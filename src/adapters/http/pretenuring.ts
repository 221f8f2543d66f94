// Turns V8's allocation-site pretenuring off in the server, whose per-request objects it can mistake for long-lived ones.
//
// V8 counts, for each place in the code that allocates literals, how many of the objects made there since the last
// young-generation collection are still alive at the next; a place whose objects mostly survive is "tenured", and
// its objects are allocated in the old generation from then on, a decision V8 does not take back. A server's objects
// live until their answer is written: a collection that comes while many answers wait (a commit, a burst) can
// tenure places whose objects die young. Old objects that die are found dead only by a full collection, and until
// then the young objects they point to are kept, and promoted, and keep others: in the runs it happened, every
// young collection took 3.6-3.9 ms instead of 0.5 and promoted about 3 MB, a full collection ran every second, and
// a check cost 10-12% more, for the rest of the process (docs/performance.md, item 17).
import { setFlagsFromString } from "node:v8";

/** Stops V8 from tenuring allocation sites from now on; what it decided before stays. Idempotent. */
export function stopPretenuring(): void {
  setFlagsFromString("--no-allocation-site-pretenuring");
}
