// Fixtures for the API tests: a real SQLite store in a temporary directory, one token per role,
// and the API served on real HTTP on 127.0.0.1.
//
// fakeEngineForApiTests is a TEST DOUBLE of the release engine (src/deploy/types.ts `Engine`),
// backed by the real store: a release is recorded as `running` and its events appended exactly as
// the contract says, but nothing is bundled or deployed. It lets the REST tests check auth, input
// validation and error mapping without workerd; test/api-release.test.ts runs the real engine on
// the real local edge.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ResolvedSpec } from "../../src/config/load.ts";
import { GateSchema } from "../../src/config/schema.ts";
import type { Engine, ReleasePlan } from "../../src/deploy/types.ts";
import { CboError } from "../../src/kit/errors.ts";
import { uuid } from "../../src/kit/ids.ts";
import { createStore, type Release, type Role, type Store } from "../../src/store/index.ts";
import { TERMINAL_STATUSES, type ErrorBody } from "../../src/contract/index.ts";
import { randomBytes } from "node:crypto";
import { createApi, startApiServer, type Api, type ApiDeps, type ApiServer } from "../../src/api/index.ts";
import { openSecurity, type Security, type SecurityOptions } from "../../src/security/open-security.ts";
import { MasterKey } from "../../src/vault/index.ts";
import { silentLogger, lineLogger } from "../../src/telemetry/index.ts";

/** A random master key (what CBO_MASTER_KEY would hold). */
export const testMasterKey = () => new MasterKey(randomBytes(32), "bytes");

/** The vault, audit log and signing key over `store`, as the daemon opens them (call stop() before store.close()). */
export function openTestSecurity(store: Store, opts: Partial<SecurityOptions> = {}): Promise<Security> {
  return openSecurity({ db: store.db, masterKey: testMasterKey(), log: silentLogger, ...opts });
}

export function testSpec(): ResolvedSpec {
  const targets = ["eu", "us", "ap"];
  return {
    tenant: "default",
    file: "/test/orchestrator.yaml",
    targets: [
      { name: "eu", api: "local", jurisdiction: "eu" },
      { name: "us", api: "local" },
      { name: "ap", api: "local" },
    ],
    workers: [
      {
        tenant: "default",
        name: "hello",
        entry: "/test/hello.ts",
        root: "/test",
        compatibilityDate: "2025-01-01",
        compatibilityFlags: [],
        vars: {},
        kv: {},
        services: {},
        secrets: [],
        agent: false,
        drift: "report",
        targets,
        waves: [["eu"], ["us", "ap"]],
        steps: [10, 50, 100],
        gate: GateSchema.parse({}),
      },
    ],
  };
}

export type FakeEngine = Engine & {
  /** Makes the next plan() throw this (once). */
  failNextPlan(err: unknown): void;
};

export function fakeEngineForApiTests(store: Store, spec: () => ResolvedSpec): FakeEngine {
  let planFailure: unknown;
  const paused = new Set<string>();
  const view = (id: string) => ({ releaseId: id, paused: paused.has(id), pausedBy: null, waiting: [] });
  const running = (id: string): Release => {
    const r = store.releases.get(id);
    if (!r) throw new CboError("ERR_NOT_FOUND", `No release ${id}.`);
    if (TERMINAL_STATUSES.has(r.status)) throw new CboError("ERR_CONFLICT", `Release ${id} has ended.`);
    return r;
  };
  const worker = (name: string) => {
    const w = spec().workers.find((x) => x.name === name);
    if (!w) throw new CboError("ERR_NOT_FOUND", `No worker named "${name}".`);
    return w;
  };
  const plan = (name: string): ReleasePlan => {
    const w = worker(name);
    const accounts = new Map(store.catalog.targets(w.tenant).map((t) => [t.name, t.account_id]));
    return {
      worker: w.name,
      tenant: w.tenant,
      bundleHash: "0".repeat(64),
      waves: w.waves,
      steps: w.steps,
      gate: w.gate,
      targets: w.targets.map((t) => ({ name: t, accountId: accounts.get(t) ?? "0".repeat(32), previousVersionId: null, live: [] })),
      actions: w.targets.flatMap((t) => [
        { kind: "upload" as const, target: t },
        { kind: "deploy" as const, target: t, percent: 100 },
        { kind: "gate" as const, target: t, percent: 100 },
      ]),
      apiCalls: w.targets.length * 3,
    };
  };
  const start = (name: string, kind: Release["kind"], by: string | undefined, extra: Record<string, unknown> = {}): Release => {
    const w = worker(name);
    if (store.releases.unfinished().some((r) => r.worker === name))
      throw new CboError("ERR_CONFLICT", `A release of ${name} is already running.`);
    const r = store.releases.insert({
      id: uuid(),
      tenant: w.tenant,
      worker: name,
      kind,
      status: "running",
      reason: null,
      plan: { ...plan(name), ...extra },
      created_by: by ?? null,
    });
    store.releases.journal(r.id, "created", null, {});
    // The payloads the engine writes (src/contract/events.ts), with the plan's figures.
    const p = plan(name);
    if (kind === "release") {
      store.events.append({
        tenant: w.tenant,
        type: "release.created",
        release_id: r.id,
        worker: name,
        data: {
          by: by ?? null,
          bundleHash: p.bundleHash,
          waves: p.waves,
          steps: p.steps,
          apiCalls: p.apiCalls,
          targets: p.targets.map((t) => ({ target: t.name, previousVersionId: t.previousVersionId })),
        },
      });
    } else {
      store.events.append({
        tenant: w.tenant,
        type: "rollback.started",
        release_id: r.id,
        worker: name,
        data: {
          by: by ?? null,
          to: typeof extra.to === "string" ? extra.to : null,
          resolved: "the versions before the newest release",
          targets: [],
          skipped: [],
        },
      });
    }
    return r;
  };
  return {
    failNextPlan(err) {
      planFailure = err;
    },
    async plan(name) {
      if (planFailure !== undefined) {
        const e = planFailure;
        planFailure = undefined;
        throw e;
      }
      return plan(name);
    },
    async diff(name) {
      const p = plan(name);
      return { worker: name, targets: [], changed: true, drift: false, ...(p.diff ?? {}) };
    },
    async release(name, opts = {}) {
      return start(name, "release", opts.by);
    },
    async abort(id) {
      const r = store.releases.get(id);
      if (!r) throw new CboError("ERR_NOT_FOUND", `No release ${id}.`);
      if (TERMINAL_STATUSES.has(r.status)) throw new CboError("ERR_CONFLICT", `Release ${id} has ended.`);
      store.releases.setStatus(id, "aborted", "aborted by request");
      store.events.append({
        tenant: r.tenant,
        type: "release.aborted",
        release_id: id,
        worker: r.worker,
        data: { reason: "aborted by request" },
      });
      return store.releases.get(id)!;
    },
    async rollback(name, opts = {}) {
      return start(name, "rollback", opts.by, opts.to ? { to: opts.to } : {});
    },
    previewD1Restore() {
      throw new CboError("ERR_NOT_FOUND", "the test engine keeps no D1 bookmarks");
    },
    async restoreD1() {
      throw new CboError("ERR_NOT_FOUND", "the test engine keeps no D1 bookmarks");
    },
    async previewRollback(name, opts = {}) {
      return {
        worker: name,
        to: opts.to ?? null,
        resolved: "the versions before the newest release",
        targets: [],
        skipped: [],
        warnings: [],
        needs: { confirmSecretDowngrade: false, force: false },
      };
    },
    async wait(id) {
      return store.releases.get(id)!;
    },
    async recover() {},
    restores: () => [],
    async close() {},
    // Control: a paused flag per running release; nothing ever waits at a pause step here.
    async pause(id) {
      const r = running(id);
      if (paused.has(id)) throw new CboError("ERR_CONFLICT", `Release ${id} is already paused.`);
      paused.add(id);
      return { release: r, control: view(id) };
    },
    async resume(id) {
      const r = running(id);
      if (!paused.delete(id)) throw new CboError("ERR_CONFLICT", `Release ${id} is not paused.`);
      return { release: r, control: view(id) };
    },
    async promote(id) {
      running(id);
      throw new CboError("ERR_CONFLICT", `Release ${id} is not waiting for an approval or a timed pause.`);
    },
    control(id) {
      if (!store.releases.get(id)) throw new CboError("ERR_NOT_FOUND", `No release ${id}.`);
      return view(id);
    },
    analysis(id) {
      const r = store.releases.get(id);
      if (!r) throw new CboError("ERR_NOT_FOUND", `No release ${id}.`);
      return { releaseId: id, worker: r.worker, enabled: false, steps: [] };
    },
  };
}

export type ApiFixture = {
  dir: string;
  store: Store;
  security: Security;
  spec: ResolvedSpec;
  engine: FakeEngine;
  api: Api;
  server: ApiServer;
  url: string;
  tokens: Record<Role, string>;
  /** Lines the API logged (unexpected errors). */
  logged: string[];
  close(): Promise<void>;
};

export async function startApiFixture(
  opts: Partial<Pick<ApiDeps, "stream" | "targets" | "monitor" | "authLimits">> & {
    engine?: (store: Store, spec: () => ResolvedSpec) => FakeEngine;
    security?: Partial<SecurityOptions>;
  } = {},
): Promise<ApiFixture> {
  const dir = await mkdtemp(join(tmpdir(), "cbo-api-"));
  const store = createStore(join(dir, "orchestrator.sqlite"));
  const spec = testSpec();
  for (const t of spec.targets) {
    store.catalog.upsertTarget({
      tenant: spec.tenant,
      name: t.name,
      api: t.api,
      account_id: `${t.name}`.padEnd(32, "0"),
      region: t.name,
      jurisdiction: t.jurisdiction ?? null,
      kv_namespace: null,
    });
  }
  const { engine: makeEngine, security: securityOpts, ...deps } = opts;
  const logged: string[] = [];
  const security = await openTestSecurity(store, { log: lineLogger((l) => logged.push(l)), ...securityOpts });
  const unfollow = security.followEngine(store.events);
  const engine = (makeEngine ?? fakeEngineForApiTests)(store, () => spec);
  const tokens = Object.fromEntries(
    (["admin", "deployer", "viewer", "agent"] as const).map((role) => [role, store.tokens.create({ name: `test ${role}`, role }).token]),
  ) as Record<Role, string>;
  const api = createApi({
    store,
    engine,
    security,
    spec: () => spec,
    log: lineLogger((l) => logged.push(l)),
    checkResponses: true,
    ...deps,
  });
  const server = await startApiServer({ api, port: 0 });
  return {
    dir,
    store,
    security,
    spec,
    engine,
    api,
    server,
    url: server.url,
    tokens,
    logged,
    async close() {
      await server.close();
      unfollow();
      await security.stop();
      store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * An API answer: `body` is the parsed JSON (undefined if none), typed as the shape the caller
 * expects (a type from src/contract, or ErrorBody / Refusal for a refused request); the test's
 * assertions then check it.
 */
export type Answer<T = unknown> = { status: number; body: T; text: string };

/** A refusal whose details a test reads, typed as the route puts them (src/api/errors.ts). */
export type Refusal<D> = { error: ErrorBody["error"] & { details: D } };
/** ERR_VALIDATION's details: every problem with the path it was found at. */
export type ValidationIssues = { issues: Array<{ path: string; message: string }> };

/** A request to the API with an optional bearer token and a raw or JSON body. */
export async function call<T = unknown>(
  url: string,
  method: string,
  path: string,
  opts: { token?: string; json?: unknown; body?: string; headers?: Record<string, string> } = {},
): Promise<Answer<T>> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers["authorization"] = `Bearer ${opts.token}`;
  let body = opts.body;
  if (opts.json !== undefined) body = JSON.stringify(opts.json);
  if (body !== undefined) headers["content-type"] ??= "application/json";
  const res = await fetch(url + path, { method, headers, ...(body === undefined ? {} : { body }), signal: AbortSignal.timeout(15_000) });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.status, body: parsed as T, text };
}
