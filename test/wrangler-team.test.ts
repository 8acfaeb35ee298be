// Real wrangler (the latest pinned, and 4.86) against the local edge as a team uses it day to day:
// one wrangler.jsonc with `--env staging` and `--env production` Workers, secrets changed as new
// versions (`wrangler versions secret put|bulk|delete`, which 4.86 builds from `content/v2` and
// 4.1xx sends as `PATCH …/workers/workers/:name/versions/latest`), `kv namespace rename`, and
// `wrangler delete` of a Worker another Worker binds to, the preview URLs `versions upload`
// prints, and code that cannot start refused at upload. After each step, what workerd serves.
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestEdge, type TestEdge } from "./support/edge.ts";
import { eventually, httpGet } from "./support/http.ts";
import { stripAnsi } from "./support/text.ts";
import {
  createWranglerProject,
  describeRun,
  parseJsonOutput,
  parseLabelledId,
  type WranglerProject,
  type WranglerVersion,
  type WranglerRun,
} from "./support/wrangler.ts";

const SOURCE = `
import { DurableObject } from "cloudflare:workers";
export class Counter extends DurableObject {}
export default {
  async fetch(req, env) {
    return Response.json({ stage: env.STAGE, token: env.TOKEN ?? null, other: env.OTHER ?? null });
  },
};`;

const CONFIG = {
  name: "shop",
  main: "src/index.js",
  compatibility_date: "2025-01-01",
  vars: { STAGE: "top" },
  durable_objects: { bindings: [{ name: "COUNTER", class_name: "Counter" }] },
  migrations: [{ tag: "v1", new_sqlite_classes: ["Counter"] }],
  env: {
    staging: { vars: { STAGE: "staging" }, durable_objects: { bindings: [{ name: "COUNTER", class_name: "Counter" }] } },
    production: { name: "shop-prod", vars: { STAGE: "prod" }, durable_objects: { bindings: [{ name: "COUNTER", class_name: "Counter" }] } },
  },
};

type Served = { stage: string; token: string | null; other: string | null };
type VersionJson = {
  id: string;
  annotations?: Record<string, string>;
  resources: { bindings: { name: string; type: string }[]; script?: { handlers: string[] } };
};

/** The id in wrangler's "Created version <id>" line (versions secret put|bulk|delete). */
function createdVersion(r: WranglerRun): string {
  const m = /Created version ([0-9a-f-]{36})/.exec(stripAnsi(r.stdout + r.stderr));
  if (!m) throw new Error(`no "Created version" in ${describeRun(r)}`);
  return m[1]!;
}

describe.each<WranglerVersion>(["latest", "4.86"])("a team's day with wrangler %s against the local edge", (version) => {
  let t: TestEdge;
  let shop: WranglerProject;
  let caller: WranglerProject;

  const serve = async (worker: string): Promise<Served> => {
    const res = await httpGet(t.region.port, `${worker}.localhost`);
    if (res.status !== 200) throw new Error(`${worker} answered ${res.status}: ${res.body}`);
    return JSON.parse(res.body) as Served;
  };
  const expectServes = (worker: string, expected: Partial<Served>) =>
    eventually(async () => expect(await serve(worker)).toMatchObject(expected));
  const api = (method: string, p: string) =>
    fetch(`${t.edge.apiUrl}/accounts/${t.region.accountId}${p}`, { method, headers: { authorization: `Bearer ${t.edge.token}` } });

  beforeAll(async () => {
    t = await startTestEdge({ regions: ["eu"] });
    shop = await createWranglerProject(path.join(t.dataDir, "shop"), t.edge, t.region.accountId, { wrangler: version });
    caller = await createWranglerProject(path.join(t.dataDir, "caller"), t.edge, t.region.accountId, { wrangler: version });
    await shop.writeConfig(CONFIG);
    await shop.writeSource(SOURCE);
  });
  afterAll(async () => t?.dispose());

  it("deploy --env staging and -e production: each environment is a Worker of its own with its own vars", async () => {
    await shop.ok(["deploy", "--env", "staging"]);
    await shop.ok(["deploy", "-e", "production"]);
    await expectServes("shop-staging", { stage: "staging", token: null });
    await expectServes("shop-prod", { stage: "prod", token: null });
  });

  it("versions secret put / bulk / delete --env staging make new versions with the same code; only versions deploy makes them live", async () => {
    const put = await shop.ok(["versions", "secret", "put", "TOKEN", "--env", "staging"], { input: "token-1" });
    const v1 = createdVersion(put);
    // Not deployed yet: staging still serves without the secret.
    expect(await serve("shop-staging")).toEqual({ stage: "staging", token: null, other: null });
    await shop.ok(["versions", "deploy", `${v1}@100%`, "-y", "--env", "staging"]);
    await expectServes("shop-staging", { stage: "staging", token: "token-1", other: null });

    await shop.writeFile("secrets.json", JSON.stringify({ TOKEN: "token-2", OTHER: "other-1" }));
    const v2 = createdVersion(await shop.ok(["versions", "secret", "bulk", "secrets.json", "--env", "staging"]));
    const v3 = createdVersion(await shop.ok(["versions", "secret", "delete", "OTHER", "--env", "staging"]));
    const viewed = parseJsonOutput<VersionJson>(await shop.ok(["versions", "view", v3, "--json", "--env", "staging"]));
    const secrets = viewed.resources.bindings.filter((b) => b.type === "secret_text").map((b) => b.name);
    expect(secrets).toEqual(["TOKEN"]);
    expect(viewed.resources.bindings.map((b) => `${b.type}:${b.name}`)).toEqual(
      expect.arrayContaining(["plain_text:STAGE", "durable_object_namespace:COUNTER"]),
    );

    // Half the traffic on each: both versions run the code they were copied from, with their own secrets.
    await shop.ok(["versions", "deploy", `${v2}@50%`, `${v3}@50%`, "-y", "--env", "staging"]);
    const seen = new Set<string>();
    await eventually(async () => {
      seen.add(JSON.stringify(await serve("shop-staging")));
      expect(seen.size).toBe(2);
    }, 15_000);
    expect([...seen].map((s) => JSON.parse(s) as Served)).toEqual(
      expect.arrayContaining([
        { stage: "staging", token: "token-2", other: "other-1" },
        { stage: "staging", token: "token-2", other: null },
      ]),
    );
    // Production never saw any of it.
    expect(await serve("shop-prod")).toEqual({ stage: "prod", token: null, other: null });
  });

  it("versions upload prints preview URLs that serve the uploaded version before it is deployed (none for Durable Object Workers)", async () => {
    const site = await createWranglerProject(path.join(t.dataDir, "site"), t.edge, t.region.accountId, { wrangler: version });
    await site.writeConfig({ name: "pr-site", main: "src/index.js", compatibility_date: "2025-01-01" });
    await site.writeSource('export default { fetch() { return new Response("live"); } };');
    await site.ok(["deploy"]);
    await site.writeSource('export default { fetch() { return new Response("pull request 7"); } };');
    const r = await site.ok(["versions", "upload", "--preview-alias", "pr-7"]);
    const out = stripAnsi(r.stdout + r.stderr);
    const url = /Version Preview URL: https:\/\/(\S+)/.exec(out)?.[1];
    const alias = /Version Preview Alias URL: https:\/\/(\S+)/.exec(out)?.[1];
    expect(url, describeRun(r)).toMatch(new RegExp(`^[0-9a-f]{8}-pr-site\\.${t.region.subdomain}\\.workers\\.dev$`));
    expect(alias, describeRun(r)).toBe(`pr-7-pr-site.${t.region.subdomain}.workers.dev`);
    expect((await httpGet(t.region.port, url!)).body).toBe("pull request 7");
    expect((await httpGet(t.region.port, alias!)).body).toBe("pull request 7");
    expect((await httpGet(t.region.port, "pr-site.localhost")).body).toBe("live");
    expect((await httpGet(t.region.port, `00000000-pr-site.${t.region.subdomain}.workers.dev`)).status).toBe(404);

    // Cloudflare gives no preview URLs to a Worker that implements Durable Objects.
    const shopUpload = await shop.ok(["versions", "upload", "--env", "staging"]);
    expect(stripAnsi(shopUpload.stdout), describeRun(shopUpload)).not.toContain("Preview URL");
    const id = /Worker Version ID:\s*([0-9a-f-]{36})/.exec(stripAnsi(shopUpload.stdout))![1]!;
    expect((await httpGet(t.region.port, `${id.slice(0, 8)}-shop-staging.${t.region.subdomain}.workers.dev`)).status).toBe(404);
  });

  it("code that cannot start is refused (10021) by deploy and versions upload, and the live version keeps serving; versions view lists the code's handlers", async () => {
    const boot = await createWranglerProject(path.join(t.dataDir, "boot"), t.edge, t.region.accountId, { wrangler: version });
    await boot.writeConfig({ name: "boot", main: "src/index.js", compatibility_date: "2025-01-01", vars: { GREETING: "hello" } });
    // Global scope may read vars: this starts (the probe has the version's vars).
    await boot.writeSource(
      'import { env } from "cloudflare:workers";\nconst g = env.GREETING.toUpperCase();\nexport default { fetch() { return new Response(g); }, scheduled() {} };',
    );
    const first = parseLabelledId(await boot.ok(["deploy"]), "Current Version ID");
    expect((await httpGet(t.region.port, "boot.localhost")).body).toBe("HELLO");
    // The handlers Cloudflare lists for the version are the ones its code implements.
    const view = await boot.ok(["versions", "view", first]);
    expect(stripAnsi(view.stdout), describeRun(view)).toMatch(/Handlers:\s+fetch, scheduled\n/);
    expect(parseJsonOutput<VersionJson>(await boot.ok(["versions", "view", first, "--json"])).resources.script?.handlers).toEqual([
      "fetch",
      "scheduled",
    ]);

    await boot.writeSource('throw new Error("missing config at startup");\nexport default { fetch() { return new Response("broken"); } };');
    const thrown = await boot.run(["deploy"]);
    expect(thrown.code, describeRun(thrown)).not.toBe(0);
    const out = stripAnsi(thrown.stdout + thrown.stderr);
    expect(out).toContain("Uncaught Error: missing config at startup");
    expect(out).toContain("[code: 10021]");

    await boot.writeSource('export default { fetch() { return new Response("broken"); } };\nexport const notAHandler = 5;');
    const exported = await boot.run(["versions", "upload"]);
    expect(exported.code, describeRun(exported)).not.toBe(0);
    expect(stripAnsi(exported.stdout + exported.stderr)).toContain("Incorrect type for map entry 'notAHandler'");

    // Compatibility settings workerd cannot run: refused at upload, not deployed to fail every request.
    await boot.writeSource('export default { fetch() { return new Response("flagged"); } };');
    for (const [settings, why] of [
      [{ compatibility_flags: ["no_such_flag"] }, "No such compatibility flag: no_such_flag"],
      [{ compatibility_flags: ["nodejs_compat", "no_nodejs_compat"] }, "Compatibility flags are mutually contradictory"],
      [{ compatibility_date: "2099-01-01" }, 'Compatibility date "2099-01-01" is in the future and unsupported'],
    ] as const) {
      await boot.writeConfig({
        name: "boot",
        main: "src/index.js",
        compatibility_date: "2025-01-01",
        vars: { GREETING: "hello" },
        ...settings,
      });
      const r = await boot.run(["deploy"]);
      expect(r.code, describeRun(r)).not.toBe(0);
      expect(stripAnsi(r.stdout + r.stderr)).toContain(`${why}`);
    }
    await boot.writeConfig({ name: "boot", main: "src/index.js", compatibility_date: "2025-01-01", vars: { GREETING: "hello" } });

    // Nothing was stored: the deployed version serves, and no version was added.
    expect((await httpGet(t.region.port, "boot.localhost")).body).toBe("HELLO");
    const versions = parseJsonOutput<VersionJson[]>(await boot.ok(["versions", "list", "--json"]));
    expect(versions).toHaveLength(1);

    // Dated today, as `wrangler init` dates a project: past what the edge's workerd knows, still a Worker that serves.
    const today = new Date().toISOString().slice(0, 10);
    await boot.writeConfig({ name: "boot", main: "src/index.js", compatibility_date: today });
    const dated = parseLabelledId(await boot.ok(["deploy"]), "Current Version ID");
    expect((await httpGet(t.region.port, "boot.localhost")).body).toBe("flagged");
    expect(stripAnsi((await boot.ok(["versions", "view", dated])).stdout)).toContain(`Compatibility Date:   ${today}`);
  });

  it("a request the Worker throws on gets Cloudflare's 500 'error code: 1101', not the exception's text, which goes to the edge's log", async () => {
    const thrower = await createWranglerProject(path.join(t.dataDir, "thrower"), t.edge, t.region.accountId, { wrangler: version });
    await thrower.writeConfig({ name: "thrower", main: "src/index.js", compatibility_date: "2025-01-01" });
    await thrower.writeSource(
      'export default { fetch(req) { throw new Error("upstream refused key sk-live-" + new URL(req.url).searchParams.get("k")); } };',
    );
    await thrower.ok(["deploy"]);
    const res = await httpGet(t.region.port, "thrower.localhost", { path: `/?k=${version}` });
    expect(res.status).toBe(500);
    expect(res.body).toBe("error code: 1101");
    await eventually(async () => expect(t.lines.join("\n")).toContain(`upstream refused key sk-live-${version}`));
  });

  it("deploy prints the Worker's startup time as the edge measured it: a slow global scope shows", async () => {
    const slow = await createWranglerProject(path.join(t.dataDir, "slowboot"), t.edge, t.region.accountId, { wrangler: version });
    await slow.writeConfig({ name: "slowboot", main: "src/index.js", compatibility_date: "2025-01-01" });
    await slow.writeSource('export default { fetch() { return new Response("quick"); } };');
    const quick = stripAnsi((await slow.ok(["deploy"])).stdout);
    const quickMs = Number(/Worker Startup Time: (\d+) ms/.exec(quick)?.[1]);
    expect(quickMs, quick).toBeGreaterThanOrEqual(1);
    // About half a second of work in global scope, which every start of the Worker pays.
    await slow.writeSource(
      'let x = 0; for (let i = 0; i < 1e8; i++) x = (x + i) % 7919;\nexport default { fetch() { return new Response("slow " + x); } };',
    );
    const slowOut = stripAnsi((await slow.ok(["deploy"])).stdout);
    const slowMs = Number(/Worker Startup Time: (\d+) ms/.exec(slowOut)?.[1]);
    expect(slowMs, slowOut).toBeGreaterThan(quickMs + 50);
  });

  it("deploy keeps the Worker's secrets (4.86 sends no keep_bindings), global scope included", async () => {
    const boot = await createWranglerProject(path.join(t.dataDir, "boot"), t.edge, t.region.accountId, { wrangler: version });
    await boot.ok(["secret", "put", "TOKEN"], { input: "s3cret" });
    await boot.writeSource(
      'import { env } from "cloudflare:workers";\nconst n = env.TOKEN.length;\nexport default { fetch() { return new Response("token of " + n); } };',
    );
    await boot.ok(["deploy"]);
    await eventually(async () => expect((await httpGet(t.region.port, "boot.localhost")).body).toBe("token of 6"));
  });

  it("kv namespace rename: the list shows the new title; a title another namespace holds is refused", async () => {
    await shop.ok(["kv", "namespace", "create", `cache-${version}`]);
    await shop.ok(["kv", "namespace", "create", `taken-${version}`]);
    const r = await shop.ok(["kv", "namespace", "rename", `cache-${version}`, "--new-name", `sessions-${version}`]);
    expect(stripAnsi(r.stdout), describeRun(r)).toContain(`Successfully renamed namespace to "sessions-${version}"`);
    const titles = () => shop.ok(["kv", "namespace", "list"]).then((x) => parseJsonOutput<Array<{ title: string }>>(x).map((n) => n.title));
    expect(await titles()).toEqual(expect.arrayContaining([`sessions-${version}`, `taken-${version}`]));
    expect(await titles()).not.toContain(`cache-${version}`);
    const dup = await shop.run(["kv", "namespace", "rename", `sessions-${version}`, "--new-name", `taken-${version}`]);
    expect(dup.code, describeRun(dup)).not.toBe(0);
    expect(stripAnsi(dup.stdout + dup.stderr)).toContain("[code: 10014]");
    expect(await titles()).toContain(`sessions-${version}`);
  });

  it("delete -e production names the Worker that binds to it, then deletes it; the API refuses that delete without force", async () => {
    await caller.writeConfig({
      name: "caller",
      main: "src/index.js",
      compatibility_date: "2025-01-01",
      services: [{ binding: "SHOP", service: "shop-prod" }],
    });
    await caller.writeSource("export default { fetch(req, env) { return env.SHOP.fetch(req); } };");
    await caller.ok(["deploy"]);
    await expectServes("caller", { stage: "prod" });

    const refused = await api("DELETE", "/workers/services/shop-prod");
    expect(refused.status).toBe(409);
    expect(((await refused.json()) as { errors: Array<{ code: number; message: string }> }).errors[0]).toMatchObject({
      code: 10244,
      message: expect.stringContaining("caller"),
    });
    expect(await serve("shop-prod")).toMatchObject({ stage: "prod" });

    const r = await shop.ok(["delete", "-e", "production"]);
    const out = stripAnsi(r.stdout + r.stderr);
    expect(out, describeRun(r)).toContain("Worker caller (production) uses this Worker as a Service Binding");
    expect(out, describeRun(r)).toContain("Successfully deleted shop-prod");
    // Nothing to warn about: the local edge runs no Containers (wrangler 4.1xx asks).
    expect(out, describeRun(r)).not.toContain("Could not check");
    const gone = await httpGet(t.region.port, "shop-prod.localhost");
    expect(gone.body).toContain('no Worker named "shop-prod"');
    // Staging has no dependents: deleted without the extra question.
    const staging = await shop.ok(["delete", "--env", "staging"]);
    expect(stripAnsi(staging.stdout), describeRun(staging)).not.toContain("currently in use");
    expect((await api("GET", "/workers/scripts/shop-staging/references")).status).toBe(404);
  });
});
