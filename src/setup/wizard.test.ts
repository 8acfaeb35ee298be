import { describe, expect, it } from "vitest";
import { CboError } from "../kit/errors.ts";
import { DEFAULT_FIXES, type SetupStep } from "./steps.ts";
import { runWizard, type StepActions } from "./wizard.ts";

const ok = (detail: string) => async () => ({ status: "done" as const, detail });

describe("runWizard", () => {
  it("runs the steps in order, reporting running then the outcome of each", async () => {
    const seen: string[] = [];
    const actions: StepActions = {
      "master-key": ok("k"),
      cloudflare: ok("c"),
      targets: ok("t"),
      tunnel: async () => ({ status: "skipped", detail: "no cloudflared" }),
      "first-release": ok("r"),
    };
    const r = await runWizard(actions, (_all, s) => seen.push(`${s.id}:${s.status}`));
    expect(r.ok).toBe(true);
    expect(seen).toEqual([
      "master-key:running",
      "master-key:done",
      "cloudflare:running",
      "cloudflare:done",
      "targets:running",
      "targets:done",
      "tunnel:running",
      "tunnel:skipped",
      "first-release:running",
      "first-release:done",
    ]);
    expect(r.steps.every((s) => s.fix === undefined)).toBe(true);
  });

  it("stops at the first failure, with its hint as the fix; later steps stay pending and do not run", async () => {
    let ran = false;
    const actions: StepActions = {
      "master-key": ok("k"),
      cloudflare: async () => {
        throw new CboError("ERR_UNAUTHORIZED", "Cloudflare did not accept the API token.", {
          hint: "make a token with Workers Scripts:Edit",
        });
      },
      targets: async () => ((ran = true), { status: "done", detail: "" }),
      tunnel: ok("t"),
      "first-release": ok("r"),
    };
    const r = await runWizard(actions);
    expect(r.ok).toBe(false);
    expect(r.failed).toBe("cloudflare");
    expect(r.error?.code).toBe("ERR_UNAUTHORIZED");
    expect(ran).toBe(false);
    const by = Object.fromEntries(r.steps.map((s) => [s.id, s])) as Record<string, SetupStep>;
    expect(by.cloudflare).toMatchObject({
      status: "failed",
      detail: "Cloudflare did not accept the API token.",
      fix: "make a token with Workers Scripts:Edit",
    });
    expect([by.targets!.status, by.tunnel!.status, by["first-release"]!.status]).toEqual(["pending", "pending", "pending"]);
  });

  it("a failure without a hint gets the step's default fix", async () => {
    const actions: StepActions = {
      "master-key": async () => {
        throw new Error("disk full");
      },
      cloudflare: ok(""),
      targets: ok(""),
      tunnel: ok(""),
      "first-release": ok(""),
    };
    const r = await runWizard(actions);
    expect(r.steps[0]).toMatchObject({ status: "failed", detail: "disk full", fix: DEFAULT_FIXES["master-key"] });
  });
});
