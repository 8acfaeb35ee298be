import { describe, expect, it } from "vitest";
import { auditQuery, detailLine, isoOf } from "./audit-query.ts";

describe("audit filter", () => {
  it("keeps the fields that have a value, trimmed, with a default page size", () => {
    expect(auditQuery({ action: " release.* ", actor: "", outcome: "denied", text: "  " })).toEqual({
      action: "release.*",
      actor: undefined,
      target: undefined,
      outcome: "denied",
      text: undefined,
      since: undefined,
      until: undefined,
      limit: 100,
      beforeSeq: undefined,
    });
  });
  it("drops an outcome the API does not know, and pages back from a seq", () => {
    expect(auditQuery({ outcome: "weird", limit: "500", beforeSeq: 42 })).toMatchObject({ outcome: undefined, limit: 500, beforeSeq: 42 });
  });
  it("turns local datetime-local values into ISO 8601 instants", () => {
    const iso = isoOf("2025-06-01T12:30")!;
    expect(new Date(iso).getTime()).toBe(new Date(2025, 5, 1, 12, 30).getTime());
    expect(iso.endsWith("Z")).toBe(true);
    expect(isoOf("not a time")).toBeUndefined();
  });
  it("shows details on one line, cut when long", () => {
    expect(detailLine({ version: 3, mode: "relay", jurisdictions: ["eu"] })).toBe('version=3 mode=relay jurisdictions=["eu"]');
    expect(detailLine({ reason: "x".repeat(500) }, 20)).toHaveLength(20);
  });
});
