// createSetupState over stand-ins: the target runtimes' clients here are TEST DOUBLES (a counter
// and a switch), since the point is the step logic and the cache; test/init-wizard.test.ts runs
// GET /v1/setup on a real daemon and local edge.
import { describe, expect, it } from "vitest";
import type { ResolvedSpec } from "../config/load.ts";
import type { TargetRuntime } from "../targets/types.ts";
import type { Release } from "../store/index.ts";
import { createSetupState } from "./daemon-state.ts";

const spec = {
  tenant: "default",
  file: "/x/orchestrator.yaml",
  targets: [{ name: "eu", api: "local" }],
  workers: [],
} as unknown as ResolvedSpec;
const release = (status: Release["status"], id: string = status): Release => ({
  id,
  tenant: "default",
  worker: "hello",
  kind: "release",
  status,
  reason: status === "rolled_back" ? "gate failed" : null,
  plan: {},
  created_by: "t",
  created_at: "2026-01-01T00:00:00Z",
  updated_at: "2026-01-01T00:00:01Z",
});

function rig(releases: Release[] = []) {
  let calls = 0;
  let down = false;
  let clock = 0;
  const client = {
    listScripts: async () => {
      calls++;
      if (down) throw new Error("HTTP 503");
      return [];
    },
  };
  const targets = () =>
    new Map([["eu", { name: "eu", accountId: "a", client, endpoint: () => ({ url: "http://x/" }) } as unknown as TargetRuntime]]);
  const state = createSetupState({
    spec: () => spec,
    targets,
    releases: () => releases,
    masterKey: () => ({ id: "k1", source: "file" }),
    cloudflared: () => undefined,
    now: () => clock,
    maxAgeMs: 1000,
  });
  return { state, calls: () => calls, setDown: (d: boolean) => (down = d), tick: (ms: number) => (clock += ms) };
}

describe("setup state of a running daemon", () => {
  it("reports every step; the first release is pending until one exists", async () => {
    const steps = await rig().state.steps();
    expect(steps.map((s) => [s.id, s.status])).toEqual([
      ["master-key", "done"],
      ["cloudflare", "done"],
      ["targets", "done"],
      ["tunnel", "skipped"],
      ["first-release", "pending"],
    ]);
    expect(steps[0]!.detail).toContain("k1");
  });

  it("first release: running while one runs, done once one succeeded, failed with a fix when only failures exist", async () => {
    const at = async (rs: Release[]) => (await rig(rs).state.steps()).find((s) => s.id === "first-release")!;
    expect((await at([release("running")])).status).toBe("running");
    expect((await at([release("rolled_back"), release("succeeded")])).status).toBe("done");
    // Done stays done, naming the first release that succeeded: not a later rollback, nor a release running now.
    const rollback = { ...release("succeeded", "rb1"), kind: "rollback" as const };
    const done = await at([release("running", "r3"), rollback, release("succeeded", "r2"), release("succeeded", "r1")]);
    expect(done).toMatchObject({ status: "done", detail: "release r1 of hello succeeded (2026-01-01T00:00:01Z)" });
    const failed = await at([release("rolled_back", "r9")]);
    expect(failed).toMatchObject({
      status: "failed",
      detail: expect.stringContaining("gate failed"),
      fix: expect.stringContaining("cbo events --release r9"),
    });
  });

  it("target checks are cached for a while; a recheck calls again and reports a target that stopped answering", async () => {
    const r = rig();
    await r.state.steps();
    await r.state.steps();
    expect(r.calls()).toBe(1);
    r.setDown(true);
    const targets = await r.state.recheck("targets");
    expect(targets).toMatchObject({
      status: "failed",
      detail: expect.stringContaining("eu (HTTP 503)"),
      fix: expect.stringContaining("account_id"),
    });
    expect(r.calls()).toBe(2);
    r.setDown(false);
    r.tick(1500);
    expect((await r.state.steps()).find((s) => s.id === "targets")!.status).toBe("done");
  });
});
