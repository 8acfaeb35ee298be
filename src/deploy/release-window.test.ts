import { describe, expect, it } from "vitest";
import { WindowsSchema } from "../config/windows-schema.ts";
import { windowRefusal } from "./release-window.ts";

const windows = (w: unknown) => WindowsSchema.parse(w);
// 2026-12-04 is a Friday.
const at = (iso: string) => new Date(iso);

describe("windowRefusal", () => {
  const weekend = windows({ deny: [{ from: "Fri 16:00", to: "Mon 08:00", tz: "UTC" }] });
  it("denies Friday 16:00 UTC to Monday 08:00 UTC, across the week's end, and allows the rest", () => {
    expect(windowRefusal(weekend, at("2026-12-04T15:59:00Z"))).toBeUndefined();
    expect(windowRefusal(weekend, at("2026-12-04T16:00:00Z"))).toBe("windows.deny[0]: Fri 16:00 → Mon 08:00 UTC");
    expect(windowRefusal(weekend, at("2026-12-06T12:00:00Z"))).toBeDefined(); // Sunday
    expect(windowRefusal(weekend, at("2026-12-07T07:59:00Z"))).toBeDefined(); // Monday early
    expect(windowRefusal(weekend, at("2026-12-07T08:00:00Z"))).toBeUndefined();
  });
  it("reads times in the window's zone (Berlin is UTC+1 in December)", () => {
    const berlin = windows({ deny: [{ from: "Fri 16:00", to: "Mon 08:00", tz: "Europe/Berlin" }] });
    expect(windowRefusal(berlin, at("2026-12-04T15:30:00Z"))).toBeDefined(); // 16:30 in Berlin
    expect(windowRefusal(berlin, at("2026-12-04T14:30:00Z"))).toBeUndefined();
  });
  it("one-off dated freezes, and allow lists", () => {
    const freeze = windows({ deny: [{ from: "2026-12-24 00:00", to: "2026-12-27 00:00", note: "holidays" }] });
    expect(windowRefusal(freeze, at("2026-12-25T10:00:00Z"))).toBe("windows.deny[0]: 2026-12-24 00:00 → 2026-12-27 00:00 UTC (holidays)");
    expect(windowRefusal(freeze, at("2026-12-27T00:00:00Z"))).toBeUndefined();
    const office = windows({ allow: [{ from: "Mon 09:00", to: "Mon 17:00" }] });
    expect(windowRefusal(office, at("2026-12-07T10:00:00Z"))).toBeUndefined();
    expect(windowRefusal(office, at("2026-12-08T10:00:00Z"))).toMatch(/^outside every windows.allow window/);
  });
  it("refuses malformed windows with what to write", () => {
    const bad = WindowsSchema.safeParse({ deny: [{ from: "Friday 4pm", to: "Mon 08:00", tz: "Mars/Base" }] });
    expect(bad.success).toBe(false);
    const messages = bad.error!.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    expect(messages).toEqual(
      expect.arrayContaining([
        'deny.0.from: use a weekly time like "Fri 16:00" or a date like "2026-12-24 00:00"',
        "deny.0.tz: an IANA time zone, e.g. UTC or Europe/Berlin",
      ]),
    );
  });
});
