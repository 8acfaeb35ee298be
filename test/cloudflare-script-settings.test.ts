// Our client's settings calls against the real local edge: script settings (logpush,
// observability, tail consumers, tags) change with no new version and stay allowed while a split
// is live; the latest version's settings carry what the upload metadata set (placement, limits),
// and a PATCH of them is refused with 10214 during a split, as Cloudflare refuses it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { WorkerUpload } from "../src/cloudflare/index.ts";
import { startTestEdge, type TestEdge } from "./support/edge.ts";
import { expectClassified, failure, recordingClient, summary, type RecordingClient } from "./support/cf-client.ts";
import { eventually, getWorker } from "./support/http.ts";
import { workerSource } from "./support/worker-source.ts";

const upload = (tag: string, extra: Partial<WorkerUpload> = {}): WorkerUpload => ({
  mainModule: "index.js",
  modules: [{ name: "index.js", content: workerSource(tag) }],
  compatibilityDate: "2025-01-01",
  bindings: [{ type: "plain_text", name: "GREETING", text: "hello" }],
  ...extra,
});

describe("Cloudflare client: script settings", () => {
  let t: TestEdge;
  let c: RecordingClient;
  const ids: string[] = [];

  beforeAll(async () => {
    t = await startTestEdge({ regions: ["eu"] });
    c = recordingClient(t);
    ids.push(
      (await c.cf.deploy("settings-worker", upload("v1", { placement: { mode: "smart" }, limits: { cpu_ms: 50 }, logpush: false })))
        .versionId,
    );
  });
  afterAll(async () => t?.dispose());

  it("the latest version's settings hold what its upload set: placement, limits, compatibility, bindings", async () => {
    const s = await c.cf.getVersionSettings("settings-worker");
    expect(s).toMatchObject({ placement: { mode: "smart" }, limits: { cpu_ms: 50 }, compatibility_date: "2025-01-01", logpush: false });
    expect(s.bindings).toEqual([{ type: "plain_text", name: "GREETING", text: "hello" }]);
    const v = await c.cf.getVersion("settings-worker", ids[0]!);
    expect(v.resources?.script_runtime).toMatchObject({ limits: { cpu_ms: 50 } });
  });

  it("script settings: only the given keys change, with no new version", async () => {
    expect(await c.cf.getScriptSettings("settings-worker")).toEqual({
      logpush: false,
      tail_consumers: [],
      observability: { enabled: false },
      tags: [],
    });
    const versions = (await c.cf.listVersions("settings-worker")).length;
    const patched = await c.cf.patchScriptSettings("settings-worker", {
      logpush: true,
      observability: { enabled: true, head_sampling_rate: 0.25, logs: { enabled: true, invocation_logs: true } },
      tail_consumers: [{ service: "tail-worker" }],
    });
    expect(patched).toMatchObject({
      logpush: true,
      observability: { enabled: true, head_sampling_rate: 0.25 },
      tail_consumers: [{ service: "tail-worker" }],
    });
    await c.cf.patchScriptSettings("settings-worker", { tags: ["cf:service=settings-worker", "team:ads"] });
    expect(await c.cf.getScriptSettings("settings-worker")).toMatchObject({
      logpush: true,
      tags: ["cf:service=settings-worker", "team:ads"],
      tail_consumers: [{ service: "tail-worker" }],
    });
    expect((await c.cf.listVersions("settings-worker")).length).toBe(versions);
    expect(summary(await failure(c.cf.patchScriptSettings("no-such-worker", { logpush: true })))).toEqual({
      code: "ERR_CF_REQUEST",
      retryable: false,
      status: 404,
      cf: 10007,
    });
  });

  it("during a split, script settings still change; the version settings PATCH is refused with 10214", async () => {
    ids.push((await c.cf.uploadVersion("settings-worker", upload("v2"))).id);
    await c.cf.createDeployment("settings-worker", [
      { versionId: ids[0]!, percentage: 50 },
      { versionId: ids[1]!, percentage: 50 },
    ]);
    expect((await c.cf.patchScriptSettings("settings-worker", { logpush: false })).logpush).toBe(false);
    const refused = await failure(
      c.cf.patchVersionSettings("settings-worker", { bindings: [{ type: "plain_text", name: "GREETING", text: "changed" }] }),
    );
    expect(summary(refused)).toEqual({ code: "ERR_CF_REQUEST", retryable: false, status: 400, cf: 10214 });
    expect(refused.hint).toMatch(/deployed at 100%/);
  });

  it("once the latest is deployed at 100%, the version settings PATCH makes a new version that serves", async () => {
    await c.cf.createDeployment("settings-worker", [{ versionId: ids[1]!, percentage: 100 }]);
    const s = await c.cf.patchVersionSettings("settings-worker", {
      bindings: [
        { type: "plain_text", name: "GREETING" },
        { type: "plain_text", name: "OTHER", text: "added" },
      ],
    });
    expect(s.bindings).toEqual([
      { type: "plain_text", name: "GREETING", text: "hello" },
      { type: "plain_text", name: "OTHER", text: "added" },
    ]);
    await eventually(async () =>
      expect(await getWorker(t.region.port, "settings-worker")).toMatchObject({ v: "v2", greeting: "hello", other: "added" }),
    );
  });

  it("names every request's endpoint class", () => {
    expectClassified(c.endpoints, [
      "workers.versions.create",
      "workers.scripts.put",
      "workers.deployments.list",
      "workers.deployments.create",
      "workers.versions.list",
      "workers.versions.get",
      "workers.settings.get",
      "workers.settings.patch",
      "workers.script-settings.get",
      "workers.script-settings.patch",
    ]);
  });
});
