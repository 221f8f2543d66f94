// Keeps the shape of Node's process.nextTick entries alive for the life of the process, so that V8 never relearns it.
//
// Node builds each nextTick entry as an object literal with two computed (symbol) keys, and V8 builds such a literal
// one property at a time, through intermediate hidden classes that only the finished shape holds, by its back
// pointers. When a full garbage collection (the memory reducer's, after a few idle seconds) finds no entry alive,
// those classes die; the literal's inline caches, which hold them weakly, then see a class they do not know and turn
// megamorphic for good, and optimised code creates every entry through the runtime from then on. Under load that is
// 6-7% of a check's time, in the server's HTTP streams, after any idle moment (docs/performance.md, item 15).
// One entry held for ever keeps the classes, and the caches stay monomorphic.
import { createHook } from "node:async_hooks";

let kept: object | undefined;

/** Holds one nextTick entry for the life of the process; once is enough, and later calls do nothing. */
export function keepTickShape(): void {
  if (kept !== undefined) return;
  // Enabled only around one nextTick: the hook is the one public way to see an entry.
  const hook = createHook({
    init(_asyncId, type, _triggerAsyncId, resource) {
      if (type === "TickObject" && kept === undefined) kept = resource;
    },
  });
  hook.enable();
  process.nextTick(() => {});
  hook.disable();
}
