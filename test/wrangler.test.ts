// Real wrangler (the pinned devDependency) against the local edge, one command after another,
// checking after each step what the deployed Worker actually serves from workerd.
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestEdge, type TestEdge } from "./support/edge.ts";
import { createKeepAliveAgent, eventually, getWorker, hammer, type WorkerReply } from "./support/http.ts";
import { stripAnsi } from "./support/text.ts";
import { workerSource } from "./support/worker-source.ts";
import {
  createWranglerProject,
  describeRun,
  parseJsonOutput,
  parseLabelledId,
  sameId,
  type WranglerProject,
  type WranglerVersion,
} from "./support/wrangler.ts";

const WORKER = "hello-worker";

type VersionJson = { id: string; annotations?: Record<string, string>; resources: { bindings: { name: string; type: string }[] } };
type DeploymentJson = { id: string; created_on: string; versions: { version_id: string; percentage: number }[] };

// Both wranglers the suite pins: 4.86 differs on the wire (no keep_bindings on deploy, the settings
// PATCH for secret bulk, no `/workers/workers/:name`).
describe.each<WranglerVersion>(["latest", "4.86"])("real wrangler %s against the local edge", (version) => {
  let t: TestEdge;
  let project: WranglerProject;
  const agent = createKeepAliveAgent(8);
  const ids: Record<string, string> = {};
  let kvId = "";

  const serve = (headers?: Record<string, string>) => getWorker(t.region.port, WORKER, { agent, headers });
  /** Waits until the Worker answers `expected` (a deploy may take a moment to reach every socket). */
  const expectServes = (expected: Partial<WorkerReply>) =>
    eventually(async () => {
      expect(await serve()).toMatchObject(expected);
    });
  /** Asserts that `n` requests in a row are all served as `expected` (no stray old version). */
  const expectAlwaysServes = async (expected: Partial<WorkerReply>, n = 20) => {
    await expectServes(expected);
    const replies = await hammer(n, 4, () => serve());
    for (const r of replies) expect(r).toMatchObject(expected);
  };
  const config = () => ({
    name: WORKER,
    main: "src/index.js",
    compatibility_date: "2025-01-01",
    kv_namespaces: [{ binding: "MY_KV", id: kvId }],
    vars: { GREETING: "hi there" },
  });
  const secretNames = async () => {
    const r = await project.ok(["secret", "list", "--format", "json"]);
    return parseJsonOutput<{ name: string; type: string }[]>(r)
      .map((s) => s.name)
      .sort();
  };

  beforeAll(async () => {
    t = await startTestEdge({ regions: ["eu"] });
    project = await createWranglerProject(path.join(t.dataDir, "wrangler-project"), t.edge, t.region.accountId, { wrangler: version });
  });
  afterAll(async () => {
    agent.destroy();
    await t?.dispose();
  });

  it("whoami shows the region's account", async () => {
    const r = await project.ok(["whoami"]);
    expect(r.stdout, describeRun(r)).toContain(t.region.accountId);
    expect(r.stdout, describeRun(r)).toContain(t.region.accountName);
  });

  it("kv namespace create / list", async () => {
    const r = await project.ok(["kv", "namespace", "create", "MY_KV_NS"]);
    kvId = /"id":\s*"([0-9a-f]{32})"/.exec(r.stdout)?.[1] ?? "";
    expect(kvId, describeRun(r)).toMatch(/^[0-9a-f]{32}$/);
    const list = parseJsonOutput<{ id: string; title: string }[]>(await project.ok(["kv", "namespace", "list"]));
    expect(list).toContainEqual(expect.objectContaining({ id: kvId, title: "MY_KV_NS" }));
  });

  it("kv key put / get / list / delete --remote", async () => {
    const ns = ["--namespace-id", kvId, "--remote"];
    await project.ok(["kv", "key", "put", "k", "hello-kv", ...ns]);
    await project.ok(["kv", "key", "put", "dir/tmp", "short-lived", ...ns]);
    const get = await project.ok(["kv", "key", "get", "k", "--text", ...ns]);
    expect(get.stdout.trim(), describeRun(get)).toBe("hello-kv");
    const getNested = await project.ok(["kv", "key", "get", "dir/tmp", "--text", ...ns]);
    expect(getNested.stdout.trim(), describeRun(getNested)).toBe("short-lived");
    const keys = parseJsonOutput<{ name: string }[]>(await project.ok(["kv", "key", "list", ...ns]));
    expect(keys.map((k) => k.name).sort()).toEqual(["dir/tmp", "k"]);
    const prefixed = parseJsonOutput<{ name: string }[]>(await project.ok(["kv", "key", "list", "--prefix", "dir/", ...ns]));
    expect(prefixed.map((k) => k.name)).toEqual(["dir/tmp"]);

    await project.ok(["kv", "key", "delete", "dir/tmp", ...ns]);
    const after = parseJsonOutput<{ name: string }[]>(await project.ok(["kv", "key", "list", ...ns]));
    expect(after.map((k) => k.name)).toEqual(["k"]);
    const gone = await project.run(["kv", "key", "get", "dir/tmp", "--text", ...ns]);
    expect(gone.code, `a deleted key must not be readable: ${describeRun(gone)}`).not.toBe(0);
  });

  it("deploy (first) serves v1 with its var and the KV value put by wrangler", async () => {
    await project.writeConfig(config());
    await project.writeSource(workerSource("v1"));
    const r = await project.ok(["deploy"]);
    ids["v1"] = parseLabelledId(r, "Current Version ID");
    await expectServes({ v: "v1", greeting: "hi there", secret: null, kv: "hello-kv" });
    // The workers.dev form of the host reaches the same Worker.
    const viaDev = await getWorker(t.region.port, WORKER, { agent, host: `${WORKER}.${t.region.subdomain}.workers.dev` });
    expect(viaDev).toMatchObject({ v: "v1" });
  });

  it("kv key put --remote is what the Worker's binding reads", async () => {
    await project.ok(["kv", "key", "put", "k", "updated-kv", "--namespace-id", kvId, "--remote"]);
    await expectServes({ v: "v1", kv: "updated-kv" });
  });

  it("deploy (again) serves v2", async () => {
    await project.writeSource(workerSource("v2"));
    const r = await project.ok(["deploy"]);
    ids["v2"] = parseLabelledId(r, "Current Version ID");
    expect(sameId(ids["v2"], ids["v1"]!)).toBe(false);
    await expectAlwaysServes({ v: "v2", greeting: "hi there", kv: "updated-kv" });
  });

  it("secret put / list: the Worker sees the secret", async () => {
    const r = await project.ok(["secret", "put", "API_KEY"], { input: "s3cret-1" });
    expect(stripAnsi(r.stdout + r.stderr)).toContain("API_KEY");
    await expectServes({ v: "v2", secret: "s3cret-1" });
    expect(await secretNames()).toEqual(["API_KEY"]);
  });

  it("secret bulk sets and replaces secrets", async () => {
    await project.writeFile("secrets.json", JSON.stringify({ API_KEY: "s3cret-2", OTHER: "other-1" }));
    await project.ok(["secret", "bulk", "secrets.json"]);
    await expectServes({ v: "v2", secret: "s3cret-2", other: "other-1" });
    expect(await secretNames()).toEqual(["API_KEY", "OTHER"]);
  });

  it("secret delete removes only that secret", async () => {
    await project.ok(["secret", "delete", "OTHER"]);
    await expectServes({ v: "v2", secret: "s3cret-2", other: null });
    expect(await secretNames()).toEqual(["API_KEY"]);
  });

  it("deploy again keeps the secrets (4.86 sends no keep_bindings)", async () => {
    await project.ok(["deploy"]);
    await expectAlwaysServes({ v: "v2", secret: "s3cret-2", other: null });
    expect(await secretNames()).toEqual(["API_KEY"]);
  });

  it("versions upload creates v3 without deploying it", async () => {
    await project.writeSource(workerSource("v3"));
    const r = await project.ok(["versions", "upload", "--message", "third version", "--tag", "t3"]);
    ids["v3"] = parseLabelledId(r, "Worker Version ID");
    // Still v2: an uploaded version takes no traffic until deployed.
    await expectAlwaysServes({ v: "v2", secret: "s3cret-2" });
  });

  it("secret put is refused (10215) while the latest version is not deployed", async () => {
    const r = await project.run(["secret", "put", "API_KEY"], { input: "s3cret-refused" });
    expect(r.code, describeRun(r)).not.toBe(0);
    expect(stripAnsi(r.stdout + r.stderr), describeRun(r)).toContain("wrangler versions secret put");
    await expectAlwaysServes({ v: "v2", secret: "s3cret-2" });
  });

  it("versions list shows every uploaded version", async () => {
    const json = parseJsonOutput<VersionJson[]>(await project.ok(["versions", "list", "--json"]));
    for (const key of ["v1", "v2", "v3"]) {
      expect(
        json.some((v) => sameId(v.id, ids[key]!)),
        `${key} ${ids[key]} in versions list`,
      ).toBe(true);
    }
    const v3 = json.find((v) => sameId(v.id, ids["v3"]!));
    expect(v3?.annotations).toMatchObject({ "workers/message": "third version", "workers/tag": "t3" });
    const pretty = await project.ok(["versions", "list"]);
    expect(pretty.stdout, describeRun(pretty)).toContain(ids["v3"]);
  });

  it("versions view shows v3 with its bindings, the secret carried over", async () => {
    const json = parseJsonOutput<VersionJson>(await project.ok(["versions", "view", ids["v3"]!, "--json"]));
    expect(sameId(json.id, ids["v3"]!)).toBe(true);
    const bindings = json.resources.bindings.map((b) => `${b.type}:${b.name}`).sort();
    expect(bindings).toEqual(expect.arrayContaining(["kv_namespace:MY_KV", "plain_text:GREETING", "secret_text:API_KEY"]));
    const pretty = await project.ok(["versions", "view", ids["v3"]!]);
    expect(pretty.stdout, describeRun(pretty)).toContain(ids["v3"]);
    expect(pretty.stdout, describeRun(pretty)).toMatch(/Handlers:\s+fetch/);
  });

  it("versions deploy v3@100% serves v3 with the kept secret", async () => {
    await project.ok(["versions", "deploy", `${ids["v3"]}@100%`, "-y"]);
    await expectAlwaysServes({ v: "v3", secret: "s3cret-2", greeting: "hi there", kv: "updated-kv" });
  });

  it("versions deploy v3@90% v4@10% splits traffic; the override header pins a version", async () => {
    await project.writeSource(workerSource("v4"));
    const up = await project.ok(["versions", "upload"]);
    ids["v4"] = parseLabelledId(up, "Worker Version ID");
    await expectAlwaysServes({ v: "v3" });

    await project.ok(["versions", "deploy", `${ids["v3"]}@90%`, `${ids["v4"]}@10%`, "-y"]);
    // 400 requests at 10%: both versions must show up, and v4 must stay a minority (exact share: edge-split.test.ts).
    const seen = await eventually(async () => {
      const replies = await hammer(400, 8, () => serve());
      const counts = { v3: 0, v4: 0, other: 0 };
      for (const r of replies) counts[r.v === "v3" ? "v3" : r.v === "v4" ? "v4" : "other"]++;
      expect(counts.other).toBe(0);
      expect(counts.v4).toBeGreaterThan(0);
      return counts;
    });
    expect(seen.v4).toBeLessThan(120);

    for (const key of ["v3", "v4"]) {
      const pinned = await hammer(20, 4, () => serve({ "Cloudflare-Workers-Version-Overrides": `${WORKER}="${ids[key]}"` }));
      expect(pinned.map((r) => r.v)).toEqual(new Array(20).fill(key));
    }
  });

  it("deployments status / list show the split", async () => {
    const status = parseJsonOutput<DeploymentJson>(await project.ok(["deployments", "status", "--json"]));
    const split = status.versions.map((v) => ({ ...v, version_id: v.version_id.replaceAll("-", "") }));
    expect(split).toEqual(
      expect.arrayContaining([
        { version_id: ids["v3"]!.replaceAll("-", ""), percentage: 90 },
        { version_id: ids["v4"]!.replaceAll("-", ""), percentage: 10 },
      ]),
    );
    expect(split).toHaveLength(2);
    const pretty = await project.ok(["deployments", "status"]);
    expect(pretty.stdout, describeRun(pretty)).toContain(`(90%) ${ids["v3"]}`);
    expect(pretty.stdout, describeRun(pretty)).toContain(`(10%) ${ids["v4"]}`);

    const list = parseJsonOutput<DeploymentJson[]>(await project.ok(["deployments", "list", "--json"]));
    const has = (pred: (d: DeploymentJson) => boolean) => list.some(pred);
    const only = (key: string) => (d: DeploymentJson) =>
      d.versions.length === 1 && sameId(d.versions[0]!.version_id, ids[key]!) && d.versions[0]!.percentage === 100;
    expect(has(only("v1")), "deployment of v1 listed").toBe(true);
    expect(has(only("v2")), "deployment of v2 listed").toBe(true);
    expect(has(only("v3")), "deployment of v3 listed").toBe(true);
    expect(
      has((d) => d.versions.length === 2),
      "split deployment listed",
    ).toBe(true);
    const prettyList = await project.ok(["deployments", "list"]);
    expect(prettyList.stdout, describeRun(prettyList)).toContain(`(100%) ${ids["v1"]}`);
  });

  it("rollback <id> deploys that version at 100%", async () => {
    const r = await project.ok(["rollback", ids["v4"]!, "-y", "--message", "back to v4"]);
    expect(sameId(parseLabelledId(r, "Current Version ID"), ids["v4"]!)).toBe(true);
    await expectAlwaysServes({ v: "v4", secret: "s3cret-2" });
  });

  it("rollback without an id goes back to the last deployment that had a version at 100%", async () => {
    // History, newest first: rollback(v4 100%), split(v3 90 / v4 10), v3 100% -> the target is v3.
    const r = await project.ok(["rollback", "-y"]);
    expect(sameId(parseLabelledId(r, "Current Version ID"), ids["v3"]!), describeRun(r)).toBe(true);
    await expectAlwaysServes({ v: "v3", secret: "s3cret-2" });
    const status = parseJsonOutput<DeploymentJson>(await project.ok(["deployments", "status", "--json"]));
    expect(status.versions).toHaveLength(1);
    expect(sameId(status.versions[0]!.version_id, ids["v3"]!)).toBe(true);
  });

  it("kv key delete is seen by the Worker", async () => {
    await project.ok(["kv", "key", "delete", "k", "--namespace-id", kvId, "--remote"]);
    await expectServes({ v: "v3", kv: null });
  });

  it("rollback past a secret change: the edge refuses with 10220 naming the secrets; wrangler asks (yes when non-interactive) and forces", async () => {
    // v1 was deployed before `secret put API_KEY`: its secrets differ from the live v3's.
    const deploy = (versionId: string, query = "") =>
      fetch(`${t.edge.apiUrl}/accounts/${t.region.accountId}/workers/scripts/${WORKER}/deployments${query}`, {
        method: "POST",
        headers: { authorization: `Bearer ${t.edge.token}`, "content-type": "application/json" },
        body: JSON.stringify({ strategy: "percentage", versions: [{ version_id: versionId, percentage: 100 }] }),
      });
    const refused = await deploy(ids["v1"]!);
    const body = (await refused.json()) as { success: boolean; errors: { code: number; message: string }[] };
    expect(refused.status).toBe(400);
    expect(body.errors[0]!.code).toBe(10220);
    expect(body.errors[0]!.message).toMatch(/\?force=true .*The following secrets have changed: API_KEY$/);
    expect(body.errors[0]!.message).not.toContain("s3cret");
    await expectAlwaysServes({ v: "v3", secret: "s3cret-2" });

    const r = await project.ok(["rollback", ids["v1"]!, "-y", "--message", "before the secret"]);
    expect(stripAnsi(r.stdout), describeRun(r)).toMatch(
      /The following secrets have changed since version .* was deployed[\s\S]*\* API_KEY/,
    );
    await expectAlwaysServes({ v: "v1", secret: null });

    // Forward again, to a newer version whose secrets differ from the live v1's: never refused.
    expect((await deploy(ids["v3"]!)).status).toBe(200);
    await expectAlwaysServes({ v: "v3", secret: "s3cret-2" });
  });

  it("deployments list shows the 10 most recent deployments, newest (the live one) first, as Cloudflare lists them", async () => {
    // 12 deployments by now: the first deploy (v1 at 100%) and the second (v2) are past the ten.
    const list = parseJsonOutput<DeploymentJson[]>(await project.ok(["deployments", "list", "--json"]));
    expect(list).toHaveLength(10);
    const newest = [...list].sort((a, b) => b.created_on.localeCompare(a.created_on))[0]!;
    expect(newest.versions.map((v) => [v.version_id.replaceAll("-", ""), v.percentage])).toEqual([[ids["v3"]!.replaceAll("-", ""), 100]]);
    expect(list.some((d) => d.versions.some((v) => sameId(v.version_id, ids["v2"]!)))).toBe(false);
  });
});
