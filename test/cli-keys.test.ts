// `cbo keys list|rotate`, `cbo secrets deliver` and the secrets in `cbo plan`, as a user runs them:
// the real binary against a real daemon releasing a real Worker to a real two-region local edge
// (workerd), eu and us jurisdictions. Checked: the key table shows versions and never a key; a
// rotation without a release leaves both keys verifying; --wait follows the release, and when the
// new version fails its gate the command exits 1 and says both keys stay valid (the list agrees);
// a delivery starts and follows the worker's release; plan shows name@version per target and the
// withheld secret with its reason.
import { randomBytes } from "node:crypto";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDaemon, type Daemon } from "../src/daemon.ts";
import { generateKeyFile } from "../src/vault/index.ts";
import { makeTempDir, startTestEdge, type TestEdge } from "./support/edge.ts";
import { runCbo, type CboRun } from "./support/run-cbo.ts";
import { jurisdictionsFleetYaml } from "./support/orchestrator.ts";

const SPEC = jurisdictionsFleetYaml("keyed", ["GLOBAL_KEY", "EU_KEY", "RELAY_TOKEN"], { failure_limit: 2 });
const HEALTHY = `export default { fetch(req, env) { return new Response("ok " + env.CBO_TARGET); } };\n`;
const FAILING = `export default { fetch() { return new Response("broken", { status: 500 }); } };\n`;

describe("cbo keys, cbo secrets deliver and secrets in cbo plan", () => {
  let t: TestEdge;
  let dir: string;
  let data: string;
  let d: Daemon;
  const outputs: string[] = [];
  const cbo = async (args: string[]): Promise<CboRun> => {
    const r = await runCbo([...args, "--data", data], { cwd: dir, timeoutMs: 120_000 });
    outputs.push(r.stdout, r.stderr);
    return r;
  };
  const keyMaterial = () =>
    ["eu", "us"].flatMap((target) =>
      d.security.workerKeys.verifying({ tenant: "default", worker: "keyed", target }, "test").map((k) => Buffer.from(k.key)),
    );
  const seenKeys: Buffer[] = [];
  const put = async (name: string, value: string, extra: Record<string, unknown>) => {
    const res = await fetch(`${d.url}/v1/secrets/${name}`, {
      method: "PUT",
      headers: { authorization: `Bearer ${d.initialAdminToken}`, "content-type": "application/json" },
      body: JSON.stringify({ value, ...extra }),
    });
    expect(res.status).toBe(200);
  };
  const accepted = async () =>
    Object.fromEntries(
      (JSON.parse((await cbo(["keys", "list", "--json"])).stdout) as Array<{ target: string; accepted: number[] }>).map((k) => [
        k.target,
        k.accepted,
      ]),
    );

  /** Who the newest release of keyed was recorded as started by. */
  const newestReleaseBy = async () => {
    const res = await fetch(`${d.url}/v1/releases?worker=keyed&limit=1`, { headers: { authorization: `Bearer ${d.initialAdminToken}` } });
    return ((await res.json()) as { items: Array<{ created_by: string | null }> }).items[0]?.created_by;
  };

  beforeAll(async () => {
    t = await startTestEdge({ regions: ["eu", "us"] });
    dir = await makeTempDir("cli-keys");
    data = join(dir, "data");
    writeFileSync(join(dir, "orchestrator.yaml"), SPEC);
    writeFileSync(join(dir, "keyed.js"), HEALTHY);
    generateKeyFile(join(dir, "master.key"));
    d = await startDaemon({
      dataDir: data,
      configFile: join(dir, "orchestrator.yaml"),
      edge: t.edge,
      masterKeyFile: join(dir, "master.key"),
      env: {},
      monitorIntervalMs: 60_000,
      log: () => {},
    });
    await put("GLOBAL_KEY", `g-${randomBytes(8).toString("hex")}`, { mode: "binding" });
    await put("EU_KEY", `e-${randomBytes(8).toString("hex")}`, { mode: "binding", jurisdictions: ["eu"] });
    await put("RELAY_TOKEN", `r-${randomBytes(8).toString("hex")}`, { mode: "relay" });
  }, 60_000);
  afterAll(async () => {
    await d?.close();
    await t?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
    // No key the daemon ever held for this Worker appears in anything the CLI printed.
    const printed = outputs.join("\n");
    for (const k of seenKeys)
      for (const form of ["base64url", "base64", "hex"] as const) expect(printed.includes(k.toString(form))).toBe(false);
  });

  it("plan shows each target's secrets as name@version with their mode, and the withheld one with its reason", async () => {
    const r = await cbo(["plan", "keyed"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("secrets (5 delivered, 1 withheld; names and versions only):");
    expect(r.stdout).toMatch(/^ {2}eu\s+EU_KEY@1\s+binding\s+inside the version$/m);
    expect(r.stdout).toMatch(/^ {2}us\s+RELAY_TOKEN@1\s+relay\s+through the relay$/m);
    expect(r.stdout).toMatch(/^ {2}us\s+EU_KEY@1\s+binding\s+withheld: tagged eu; us is in us$/m);
  });

  it("keys list is empty before the first release, and shows versions after it", async () => {
    expect((await cbo(["keys", "list"])).stdout).toBe(
      "no per-Worker keys yet (the first release of a worker that lists secrets makes them)\n",
    );
    expect((await cbo(["release", "keyed"])).code).toBe(0);
    const r = await cbo(["keys", "list"]);
    expect(r.code).toBe(0);
    expect(
      r.stdout
        .trimEnd()
        .split("\n")
        .map((l) => l.split(/\s{2,}/)),
    ).toEqual([
      ["WORKER", "TARGET", "CURRENT", "ACCEPTED"],
      ["keyed", "eu", "v1", "v1"],
      ["keyed", "us", "v1", "v1"],
    ]);
    seenKeys.push(...keyMaterial());
  });

  it("rotate --no-release: new versions printed, never a key; both keys verify until a release", async () => {
    const r = await cbo(["keys", "rotate", "keyed", "--no-release"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      "rotated the keys of keyed: eu v2 (v1 still verifies), us v2 (v1 still verifies)\n" +
        "no release started: the next release of keyed ships them; until then the old and new keys both verify until a release of keyed succeeds\n",
    );
    expect(await accepted()).toEqual({ eu: [2, 1], us: [2, 1] });
    seenKeys.push(...keyMaterial());
    const usage = await cbo(["keys", "rotate", "keyed", "--no-release", "--wait"]);
    expect([usage.code, usage.stderr.split("\n")[0]]).toEqual([
      1,
      "error ERR_USAGE: --wait follows the release a rotation starts; with --no-release there is none.",
    ]);
  });

  it("rotate --target us --wait follows the release that ships the new key; then only it verifies", async () => {
    const r = await cbo(["keys", "rotate", "keyed", "--target", "us", "--wait"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[0]).toBe("rotated the keys of keyed: us v3 (v2 still verifies)");
    expect(lines[1]).toMatch(/^release \S+ of keyed started: waves .*, steps 50% -> 100%$/);
    expect(lines.at(-2)).toMatch(/^release \S+ succeeded after \d+\.\d s/);
    expect(lines.at(-1)).toBe("the new keys are live; verifying now: us v3");
    // Recorded as started by the token's name, as `cbo release` records it (the list's "By").
    expect(await newestReleaseBy()).toBe("initial admin");
    // The release shipped each target's current key: eu's v2 (rotated before), us's v3.
    expect(await accepted()).toEqual({ eu: [2], us: [3] });
    seenKeys.push(...keyMaterial());
  });

  it("rotate --wait when the release fails its gate: exit 3, and both keys stay valid until a release succeeds", async () => {
    writeFileSync(join(dir, "keyed.js"), FAILING);
    const r = await cbo(["keys", "rotate", "keyed", "--wait"]);
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/^release \S+ rolled back after \d+\.\d s/m);
    expect(r.stderr).toMatch(
      /^release \S+ rolled back: the new keys did not ship, and the old and new keys both verify until a release of keyed succeeds \(`npx cbo release keyed`\)$/m,
    );
    expect(await accepted()).toEqual({ eu: [3, 2], us: [4, 3] });
    seenKeys.push(...keyMaterial());
    const json = await cbo(["keys", "rotate", "keyed", "--target", "eu", "--no-release", "--json"]);
    expect(JSON.parse(json.stdout)).toMatchObject({
      keys: [{ worker: "keyed", target: "eu", current: 4, accepted: [4, 3] }],
      release: null,
    });
    writeFileSync(join(dir, "keyed.js"), HEALTHY);
  });

  it("secrets deliver starts the worker's release; --wait follows it; unlisted secrets are refused", async () => {
    await put("GLOBAL_KEY", `g2-${randomBytes(8).toString("hex")}`, {});
    const r = await cbo(["secrets", "deliver", "GLOBAL_KEY", "--wait"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^delivering secret GLOBAL_KEY version 2: started keyed \(release \S+\)$/m);
    expect(r.stdout).toMatch(/^release \S+ succeeded after/m);
    // That release shipped the keys rotated meanwhile too: one key per target again.
    expect(await accepted()).toEqual({ eu: [4], us: [4] });
    const nowait = await cbo(["secrets", "deliver", "RELAY_TOKEN", "--json"]);
    const started = JSON.parse(nowait.stdout) as { name: string; version: number; releases: Array<{ worker: string; releaseId: string }> };
    expect(started).toMatchObject({ name: "RELAY_TOKEN", version: 1, releases: [{ worker: "keyed" }] });
    // Let it finish before the next one (a worker releases one at a time).
    for (;;) {
      const res = await fetch(`${d.url}/v1/releases/${started.releases[0]!.releaseId}`, {
        headers: { authorization: `Bearer ${d.initialAdminToken}` },
      });
      const { release } = (await res.json()) as { release: { status: string } };
      if (!["running", "rolling_back"].includes(release.status)) break;
      await new Promise((res2) => setTimeout(res2, 50));
    }
    expect(await newestReleaseBy()).toBe("initial admin");
    // GLOBAL_KEY version 2 ships already: its release ends unchanged, and the CLI says so (it said "started").
    const again = await cbo(["secrets", "deliver", "GLOBAL_KEY"]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(
      /^delivering secret GLOBAL_KEY version 2: keyed already ships it on every target \(release \S+ unchanged\)\n$/,
    );
    await put("ORPHAN", "o", { mode: "relay" });
    const orphan = await cbo(["secrets", "deliver", "ORPHAN"]);
    expect([orphan.code, orphan.stderr.split("\n")[0]]).toEqual([1, "error ERR_NOT_FOUND: No worker lists secret ORPHAN."]);
    expect(orphan.stderr).toContain("hint: list the secret under a worker's `secrets:`");
  });
});
