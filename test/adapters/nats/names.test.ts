// The feed's names: documented subjects by default, prefixed ones side by side, and the source read back from a subject.
import { describe, expect, it } from "vitest";
import { feedNames } from "../../../src/adapters/nats/names.js";

describe("feedNames", () => {
  it("gives the documented names without a prefix", () => {
    const n = feedNames();
    expect([n.recordsStream, n.deadStream, n.receiptsStream]).toEqual(["RECORDS", "RECORDS_DEAD", "RECEIPTS"]);
    expect([n.recordsFilter, n.deadFilter, n.receiptsFilter]).toEqual(["records.*", "records.dead.*", "receipts.*"]);
    expect([n.records("court"), n.dead("court"), n.receipts("court")]).toEqual(["records.court", "records.dead.court", "receipts.court"]);
  });

  it("puts a prefix before every subject and stream name", () => {
    const n = feedNames("beijing");
    expect([n.recordsStream, n.deadStream, n.receiptsStream]).toEqual(["beijing_RECORDS", "beijing_RECORDS_DEAD", "beijing_RECEIPTS"]);
    expect([n.recordsFilter, n.deadFilter, n.receiptsFilter]).toEqual(["beijing.records.*", "beijing.records.dead.*", "beijing.receipts.*"]);
    expect(n.sourceOf("beijing.records.tax")).toBe("tax");
    expect(n.sourceOf("records.tax")).toBeUndefined();
  });

  it("reads the source from a one-token subject only", () => {
    const n = feedNames();
    expect(n.sourceOf("records.traffic-police")).toBe("traffic-police");
    expect(n.sourceOf("records.法院")).toBe("法院");
    for (const s of ["records.", "records.dead.court", "receipts.court", "recordsX.court"]) expect(n.sourceOf(s), s).toBeUndefined();
  });

  it("refuses a prefix that is not one subject token, naming it", () => {
    for (const p of ["a.b", "a*", "a b", ">"]) expect(() => feedNames(p), p).toThrow(`prefix ${JSON.stringify(p)}: must be`);
  });
});
