import { describe, expect, it } from "vitest";
import { createCronScheduler } from "./scheduler.ts";

describe("cron scheduler", () => {
  it("fires, for the minute given, every live Worker's crons that match it, once each", async () => {
    const fired: string[] = [];
    const s = createCronScheduler({
      targets: () => [
        { accountId: "a", script: "api", crons: ["*/5 * * * *", "0 3 * * *"] },
        { accountId: "b", script: "other", crons: ["10 * * * *"] },
      ],
      fire: async (t, cron, time) => void fired.push(`${t.script} ${cron} ${new Date(time).toISOString()}`),
    });
    s.tick(Date.parse("2026-03-02T03:00:00Z"));
    s.tick(Date.parse("2026-03-02T03:10:00Z"));
    s.tick(Date.parse("2026-03-02T03:11:00Z"));
    await new Promise((r) => setImmediate(r));
    expect(fired).toEqual([
      "api */5 * * * * 2026-03-02T03:00:00.000Z",
      "api 0 3 * * * 2026-03-02T03:00:00.000Z",
      "api */5 * * * * 2026-03-02T03:10:00.000Z",
      "other 10 * * * * 2026-03-02T03:10:00.000Z",
    ]);
  });
});
