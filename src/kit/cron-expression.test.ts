import { describe, expect, it } from "vitest";
import { CronSyntaxError, parseCron } from "./cron-expression.ts";

const at = (iso: string) => new Date(iso);

describe("cron expressions (Cloudflare's syntax)", () => {
  it("matches minutes, hours, steps, ranges and lists in UTC", () => {
    const every5 = parseCron("*/5 * * * *");
    expect(every5.matches(at("2026-03-02T10:05:00Z"))).toBe(true);
    expect(every5.matches(at("2026-03-02T10:06:00Z"))).toBe(false);
    const office = parseCron("10 7 * * mon-fri");
    expect(office.matches(at("2026-03-02T07:10:00Z"))).toBe(true); // a Monday
    expect(office.matches(at("2026-03-01T07:10:00Z"))).toBe(false); // a Sunday
    expect(parseCron("0 9,17 1-3 jan,JUL *").matches(at("2026-07-02T17:00:00Z"))).toBe(true);
  });

  it("counts weekdays 1-7 from Sunday, as Cloudflare documents (0 is Sunday too)", () => {
    const sunday = at("2026-03-01T17:00:00Z");
    expect(parseCron("0 17 * * 1").matches(sunday)).toBe(true);
    expect(parseCron("0 17 * * sun").matches(sunday)).toBe(true);
    expect(parseCron("0 17 * * 0").matches(sunday)).toBe(true);
    expect(parseCron("0 17 * * 2-6").matches(sunday)).toBe(false);
  });

  it("knows L, W and #", () => {
    expect(parseCron("0 18 * * 6L").matches(at("2026-02-27T18:00:00Z"))).toBe(true); // last Friday of Feb 2026
    expect(parseCron("0 18 * * friL").matches(at("2026-02-20T18:00:00Z"))).toBe(false);
    expect(parseCron("59 23 LW * *").matches(at("2026-05-29T23:59:00Z"))).toBe(true); // May 31 2026 is a Sunday
    expect(parseCron("0 0 L * *").matches(at("2026-02-28T00:00:00Z"))).toBe(true);
    expect(parseCron("0 10 * * MON#2").matches(at("2026-03-09T10:00:00Z"))).toBe(true);
    expect(parseCron("0 10 * * MON#2").matches(at("2026-03-02T10:00:00Z"))).toBe(false);
    expect(parseCron("0 0 1W * *").matches(at("2026-08-03T00:00:00Z"))).toBe(true); // Aug 1 2026 is a Saturday
  });

  it("refuses malformed expressions with a reason", () => {
    for (const bad of ["* * * *", "61 * * * *", "* * * * 8", "*/0 * * * *", "5-1 * * * *", "* * * FOO *", "", "* * * * * *"]) {
      expect(() => parseCron(bad), bad).toThrow(CronSyntaxError);
    }
    expect(() => parseCron("61 * * * *")).toThrow(/"61" is not a valid minute \(0-59\)/);
  });
});
