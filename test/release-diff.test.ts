// `cbo diff` end to end: a real daemon releases a wrangler-project Worker (a var, a KV binding,
// static assets, a cron) to two regions of the real local edge; then one var, one binding and one
// asset change in the project, and `cbo diff` (and the top of `cbo plan`) shows exactly those three
// per target, read against what each target runs. `cbo release` of an unchanged Worker ends
// `unchanged` (exit 0, audited as requested, nothing uploaded). Then a real out-of-band
// `wrangler deploy` to eu: `cbo diff --strict` exits 4 naming eu's unknown version, while plain
// `cbo diff` exits 0.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { WorkerDiff } from "../src/contract/index.ts";
import { startDaemon, type Daemon } from "../src/daemon.ts";
import { generateKeyFile } from "../src/vault/index.ts";
import { recordingClient } from "./support/cf-client.ts";
import { makeTempDir, startTestEdge, type TestEdge } from "./support/edge.ts";
import { versionSource } from "./support/orchestrator.ts";
import { runCbo } from "./support/run-cbo.ts";
import { createWranglerProject } from "./support/wrangler.ts";

const REGIONS = ["eu", "us"];
const config = (o: { greeting: string; sessions: boolean }) => ({
  name: "shop",
  main: "index.js",
  compatibility_date: "2025-01-01",
  vars: { GREETING: o.greeting, MODE: "live" },
  kv_namespaces: [
    { binding: "CACHE", id: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" },
    ...(o.sessions ? [{ binding: "SESSIONS", id: "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb" }] : []),
  ],
  assets: { directory: "./public" },
  triggers: { crons: ["*/5 * * * *"] },
});

describe("cbo diff against what each target runs, and no-op releases", () => {
  let t: TestEdge;
  let dir: string;
  let d: Daemon;
  const cbo = (args: string[]) => runCbo([...args, "--data", join(dir, "data")], { cwd: dir, timeoutMs: 60_000 });
  const diffJson = async () => {
    const r = await cbo(["diff", "shop", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as WorkerDiff;
  };
  const write = async (rel: string, text: string) => {
    await mkdir(join(dir, "shop", rel, ".."), { recursive: true });
    await writeFile(join(dir, "shop", rel), text);
  };

  beforeAll(async () => {
    t = await startTestEdge({ regions: REGIONS });
    dir = await makeTempDir("diff");
    await write("index.js", versionSource("ours"));
    await write("public/snippet.js", "console.log('track v1')");
    await write("public/index.html", "<h1>shop</h1>");
    await write("wrangler.jsonc", JSON.stringify(config({ greeting: "hello", sessions: false })));
    await writeFile(
      join(dir, "orchestrator.yaml"),
      [
        "version: 1",
        "targets:",
        ...REGIONS.map((r) => `  - { name: ${r}, api: local }`),
        "rollout:",
        "  steps: [100]",
        "  gate: { probe_path: /, bake_ms: 50, min_samples: 2, interval_ms: 20 }",
        "workers:",
        "  - wrangler: shop/wrangler.jsonc",
      ].join("\n"),
    );
    generateKeyFile(join(dir, "master.key"));
    d = await startDaemon({
      dataDir: join(dir, "data"),
      configFile: join(dir, "orchestrator.yaml"),
      edge: t.edge,
      masterKeyFile: join(dir, "master.key"),
      env: {},
      port: 0,
      log: () => {},
    });
    const first = await cbo(["release", "shop"]);
    expect(first.code, first.stdout + first.stderr).toBe(0);
  }, 120_000);

  afterAll(async () => {
    await d?.close();
    await t?.dispose();
  });

  it("right after the release nothing differs anywhere, and a release of it ends unchanged (exit 0, audited, nothing uploaded)", {
    timeout: 60_000,
  }, async () => {
    const diff = await diffJson();
    expect(diff).toMatchObject({ worker: "shop", changed: false, drift: false });
    expect(diff.targets.map((x) => [x.target, x.changes, x.drift])).toEqual(REGIONS.map((r) => [r, [], false]));
    expect(diff.targets.every((x) => x.liveCode === x.desiredCode)).toBe(true);

    const versions = () => Promise.all(REGIONS.map((r) => recordingClient(t, t.edge.region(r)).cf.listVersions("shop")));
    const versionsBefore = await versions();
    const r = await cbo(["release", "shop"]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/nothing to do/);
    expect(r.stdout).toMatch(/unchanged/);
    const versionsAfter = await versions();
    expect(versionsAfter.map((v) => v.length)).toEqual(versionsBefore.map((v) => v.length));
    const last = d.store.releases.list({ worker: "shop", limit: 1 })[0]!;
    expect(last.status).toBe("unchanged");
    const audited = d.security.audit.search({ action: "release.create", limit: 10 }).map((e) => e.details);
    expect(audited).toEqual(
      expect.arrayContaining([expect.objectContaining({ stage: "started", releaseId: last.id, status: "unchanged" })]),
    );
  });

  it("one var, one binding and one asset changed: exactly those three per target, in cbo diff and at the top of cbo plan", {
    timeout: 60_000,
  }, async () => {
    await write("wrangler.jsonc", JSON.stringify(config({ greeting: "bonjour", sessions: true })));
    await write("public/snippet.js", "console.log('track v2')");
    // The daemon looks at its spec files at most every 250 ms: the wrangler file's edit is seen then.
    await new Promise((r) => setTimeout(r, 300));
    const diff = await diffJson();
    expect(diff.changed).toBe(true);
    for (const target of diff.targets) {
      expect(
        target.changes.map((c) => [c.area, c.item, c.change]),
        target.target,
      ).toEqual([
        ["bindings", "SESSIONS", "added"],
        ["vars", "GREETING", "changed"],
        ["assets", "/snippet.js", "changed"],
      ]);
      // A var is named, never shown: its value appears nowhere in the diff.
      expect(target.changes.find((c) => c.area === "vars")).toEqual({ area: "vars", item: "GREETING", change: "changed" });
    }
    expect(JSON.stringify(diff)).not.toMatch(/bonjour|hello/);
    const plan = await cbo(["plan", "shop"]);
    expect(plan.code, plan.stderr).toBe(0);
    const top = plan.stdout.slice(0, plan.stdout.indexOf("waves:"));
    expect(top).toMatch(/diff against what each target runs now/);
    for (const line of [/\+ bindings +SESSIONS /g, /~ vars +GREETING +changed/g, /~ assets +\/snippet\.js /g])
      expect(top.match(line)?.length, `${line}\n${top}`).toBe(REGIONS.length);

    const r = await cbo(["release", "shop"]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect((await diffJson()).changed).toBe(false);
  });

  it("after an out-of-band wrangler deploy to eu, cbo diff --strict exits 4 naming eu's unknown version; without --strict, 0", {
    timeout: 120_000,
  }, async () => {
    const project = await createWranglerProject(join(dir, "wrangler-eu"), t.edge, t.edge.region("eu").accountId);
    await project.writeConfig({ name: "shop", main: "src/index.js", compatibility_date: "2025-01-01" });
    await project.writeSource(versionSource("wrangler"));
    await project.ok(["deploy"]);

    const strict = await cbo(["diff", "shop", "--strict"]);
    expect(strict.code, strict.stdout + strict.stderr).toBe(4);
    expect(strict.stdout).toMatch(/eu: runs \w+ {2}DRIFT: not uploaded by the orchestrator/);
    expect(strict.stdout).not.toMatch(/us: runs \w+ {2}DRIFT/);
    const diff = await diffJson();
    expect(diff.drift).toBe(true);
    const eu = diff.targets.find((x) => x.target === "eu")!;
    expect(eu.drift).toBe(true);
    expect(eu.unknownVersions).toEqual([eu.versionId]);
    expect(eu.changes).toEqual(expect.arrayContaining([expect.objectContaining({ area: "code", change: "unknown" })]));
    expect(diff.targets.find((x) => x.target === "us")).toMatchObject({ drift: false, changes: [] });
    const plain = await cbo(["diff", "shop"]);
    expect(plain.code, plain.stderr).toBe(0);
  });
});
