import { describe, expect, it } from "vitest";
import type { AnyEvent, Release, ReleasePlan, Status, TargetSummary } from "../contract/index.ts";
import { describeEvent, gateFigures } from "./describe-event.ts";
import { formatEventLine } from "./format-event.ts";
import { actionText, formatPlan, gateText } from "./format-plan.ts";
import { formatDiff } from "./format-diff.ts";
import { formatStatus, liveText } from "./format-status.ts";
import { formatVersions, lastPerTarget } from "./format-versions.ts";
import { endLine, progressLine, startLine } from "./follow-started.ts";
import { ago, createPaint, table, useColour, visibleLength } from "./table.ts";

const plain = createPaint(false);
const colour = createPaint(true);
const NOW = Date.parse("2026-01-01T12:00:00.000Z");

const release = (over: Partial<Release> = {}): Release => ({
  id: "rel_1",
  tenant: "default",
  worker: "hello",
  kind: "release",
  status: "succeeded",
  reason: null,
  plan: {},
  created_by: "admin",
  created_at: "2026-01-01T11:58:00.000Z",
  updated_at: "2026-01-01T11:58:05.000Z",
  ...over,
});
/** A target as /v1/status lists it (only its name is shown). */
const target = (name: string): TargetSummary => ({ name, api: "local", accountId: null, region: null, jurisdiction: null });
const event = (type: string, data: Record<string, unknown> = {}, over: Partial<AnyEvent> = {}): AnyEvent => ({
  id: 7,
  tenant: "default",
  type,
  release_id: "rel_1",
  worker: "hello",
  target: "eu",
  data,
  at: "2026-01-01T11:58:01.000Z",
  ...over,
});

describe("tables and colour", () => {
  it("aligns columns by visible width, even with colour codes", () => {
    const out = table(
      [
        [colour.ok("ok"), "x"],
        ["longer", "y"],
      ],
      ["A", "B"],
    );
    const lines = out.split("\n").map((l) => l.replace(/\x1b\[[0-9;]*m/g, ""));
    expect(lines).toEqual(["A       B", "ok      x", "longer  y"]);
    expect(visibleLength(colour.bad("abc"))).toBe(3);
  });
  it("colours only a terminal without NO_COLOR", () => {
    expect(useColour({ isTTY: true }, {})).toBe(true);
    expect(useColour({ isTTY: false }, {})).toBe(false);
    expect(useColour({}, {})).toBe(false);
    expect(useColour({ isTTY: true }, { NO_COLOR: "1" })).toBe(false);
    expect(plain.bad("x")).toBe("x");
    expect(colour.bad("x")).not.toBe("x");
  });
  it("says how long ago", () => {
    expect(ago("2026-01-01T11:59:57.000Z", NOW)).toBe("3 s ago");
    expect(ago("2026-01-01T11:55:00.000Z", NOW)).toBe("5 min ago");
    expect(ago("2026-01-01T09:00:00.000Z", NOW)).toBe("3 h ago");
    expect(ago(null, NOW)).toBe("-");
  });
});

describe("events in words", () => {
  it("describes steps with their gate figures and reasons", () => {
    expect(describeEvent(event("release.step.started", { percent: 10 }))).toBe("step 10% started");
    expect(describeEvent(event("release.step.passed", { percent: 50, samples: 12, errors: 0 }))).toBe(
      "step 50% passed (12 samples, 0 errors)",
    );
    expect(
      describeEvent(
        event("release.step.failed", { percent: 10, reason: "3 probes failed in a row", samples: 5, errors: 3, errorRate: 0.6 }),
      ),
    ).toBe("step 10% FAILED: 3 probes failed in a row (5 samples, 3 errors, 60% error rate)");
    expect(describeEvent(event("release.rolling_back", { targets: ["eu", "us"], reason: "gate failed" }))).toBe(
      "rolling back eu, us: gate failed",
    );
    expect(describeEvent(event("release.target.uploaded", { versionId: "v-2" }))).toBe("uploaded version v-2");
    expect(describeEvent(event("release.phase.done", { phase: "assets", summary: "uploaded 1 new or changed asset(s)" }))).toBe(
      "assets: uploaded 1 new or changed asset(s)",
    );
    expect(describeEvent(event("release.created", { apiCalls: 21 }))).toBe("release created (21 Cloudflare API calls planned)");
    expect(describeEvent(event("rollback.started", { to: "v-1", resolved: "version v-1" }))).toBe("rollback to version v-1 started");
    expect(describeEvent(event("rollback.completed", { reason: "to version v-1; eu on v-1" }))).toBe(
      "rollback completed: to version v-1; eu on v-1",
    );
    expect(
      describeEvent(event("health.changed", { from: "healthy", to: "unhealthy", versionId: "v-2", latencyMs: 4, detail: "HTTP 500" })),
    ).toBe("health healthy -> unhealthy (version v-2, 4 ms): HTTP 500");
  });
  it("reads gate figures nested under gate/result, and leaves out what is absent", () => {
    expect(gateFigures({ gate: { samples: 1, errors: 1 } })).toBe(" (1 sample, 1 error)");
    expect(gateFigures({})).toBe("");
    expect(describeEvent(event("release.step.passed"))).toBe("step passed");
  });
  it("says when a rollback is owed and when it lands", () => {
    expect(describeEvent(event("release.restore.pending", { versionId: "v1", reason: "ERR_CF_UNAVAILABLE: down" }))).toBe(
      "restore pending: back to v1 once it answers; retrying: ERR_CF_UNAVAILABLE: down",
    );
    expect(describeEvent(event("release.restore.completed", { versionId: "v1", attempts: 5 }))).toBe("restored to v1 after 5 attempts");
  });
  it("keeps unknown event types readable instead of failing", () => {
    expect(describeEvent(event("release.someday", { why: "x" }))).toBe('release.someday {"why":"x"}');
  });
  it("says what a release waits for, and who ended the wait (approvals and pauses)", () => {
    const waiting = { kind: "approval", percent: 50, until: null, reason: "approval: cbo release promote r1" };
    expect(describeEvent(event("release.waiting", waiting))).toBe("waiting at step 50%: approval: npx cbo release promote r1"); // the engine says cbo; said here as it runs (npx cbo under vitest)
    expect(describeEvent(event("release.wait.ended", { kind: "approval", percent: 50, by: "ops", waitedMs: 1234 }))).toBe(
      "approval at step 50% ended by ops after 1.2 s",
    );
    expect(describeEvent(event("release.wait.ended", { kind: "timer", percent: 10, by: null, waitedMs: 600_000 }))).toBe(
      "timer at step 10% ended after 600.0 s",
    );
    // A pause held before a target's first step: it serves 0% of the new version, but no step ran.
    const held = { kind: "manual", percent: 0, until: null, reason: "paused: cbo release resume r1" };
    expect(describeEvent(event("release.waiting", held))).toBe("waiting before its first step: paused: npx cbo release resume r1");
    expect(describeEvent(event("release.wait.ended", { kind: "manual", percent: 0, by: "ops", waitedMs: 2000 }))).toBe(
      "manual before its first step ended by ops after 2.0 s",
    );
    expect(describeEvent(event("release.promoted", { by: "ops", reason: "looks fine", targets: ["eu", "us"] }))).toBe(
      "promoted by ops (eu, us): looks fine",
    );
    expect(describeEvent(event("release.paused", { by: "ops" }))).toBe("paused by ops");
    expect(describeEvent(event("release.resumed", { by: null }))).toBe("resumed");
  });
  it("formats an event line with id, time, place and release", () => {
    expect(formatEventLine(event("release.succeeded"), plain)).toBe("#7 11:58:01 hello/eu rel_1  release succeeded");
    expect(formatEventLine(event("health.changed", { from: "new", to: "healthy" }, { release_id: null, target: "us" }), plain)).toBe(
      "#7 11:58:01 hello/us  health new -> healthy",
    );
  });
});

describe("status", () => {
  const status: Status = {
    tenant: "default",
    targets: [target("eu"), target("us")],
    workers: [
      {
        name: "hello",
        targets: [
          {
            target: "eu",
            live: [
              { versionId: "v2", percentage: 90 },
              { versionId: "v1", percentage: 10 },
            ],
            liveError: null,
            health: { status: "healthy", versionId: "v2", latencyMs: 3, checkedAt: "x" },
          },
          { target: "us", live: [], liveError: "edge unreachable", health: null },
        ],
        lastRelease: release({ status: "rolled_back", reason: "gate failed on eu at 10%" }),
      },
    ],
  };
  it("shows live splits, health and the last release per worker and target", () => {
    const out = formatStatus(status, plain, NOW);
    const lines = out.trimEnd().split("\n");
    expect(lines[0]).toBe("tenant default: 2 targets (eu, us), 1 worker");
    expect(lines[2]).toMatch(/^WORKER\s+TARGET\s+LIVE\s+HEALTH$/);
    expect(lines[3]).toMatch(/^hello\s+eu\s+v2 90% \+ v1 10%\s+healthy 3 ms$/);
    expect(lines[4]).toMatch(/^\s+us\s+\(not observed\)\s+unknown$/);
    expect(lines[5]).toBe("live versions not observed: edge unreachable");
    expect(lines.slice(7)).toEqual(["last release:", "  hello  release rel_1 rolled_back 2 min ago: gate failed on eu at 10%"]);
  });
  it("marks a target whose rollback is still owed as restore pending, and says what is retried", () => {
    const at = (s: number) => new Date(NOW + s * 1000).toISOString();
    const owed: Status = {
      tenant: "default",
      targets: [target("eu")],
      workers: [
        {
          name: "hello",
          targets: [
            {
              target: "eu",
              live: [
                { versionId: "v2", percentage: 50 },
                { versionId: "v1", percentage: 50 },
              ],
              liveError: null,
              health: null,
              restore: {
                releaseId: "r9",
                versionId: "v1",
                since: at(-120),
                attempts: 4,
                lastError: "ERR_CF_UNAVAILABLE: down",
                nextAttemptAt: at(12),
              },
            },
          ],
          lastRelease: release({ status: "rolling_back", reason: "gate failed on eu at 50%" }),
        },
      ],
    };
    const out = formatStatus(owed, plain, NOW);
    expect(out).toMatch(/^hello\s+eu\s+v2 50% \+ v1 50% \(restore pending\)\s+unknown$/m);
    expect(out).toContain(
      "  hello/eu  back to v1 for release r9: 4 attempts since 2 min ago, next in 12 s; last: ERR_CF_UNAVAILABLE: down",
    );
    expect(formatStatus(status, plain, NOW)).not.toContain("restore pending");
  });
  it("a target left half-way by a release that waits says why, and how to let it go on", () => {
    const waiting: Status = {
      tenant: "default",
      targets: [target("eu"), target("us")],
      workers: [
        {
          name: "hello",
          targets: [
            {
              target: "eu",
              live: [
                { versionId: "v2", percentage: 50 },
                { versionId: "v1", percentage: 50 },
              ],
              liveError: null,
              health: null,
            },
            { target: "us", live: [{ versionId: "u1", percentage: 100 }], liveError: null, health: null },
          ],
          lastRelease: release({ id: "r7", status: "running", reason: null }),
          control: {
            releaseId: "r7",
            paused: true,
            pausedBy: "ops",
            waiting: [{ target: "eu", kind: "approval", percent: 50, since: new Date(NOW - 90_000).toISOString(), until: null }],
          },
        },
      ],
    };
    const out = formatStatus(waiting, plain, NOW);
    expect(out).toMatch(/^hello\s+eu\s+v2 50% \+ v1 50% \(waits: approval\)\s+unknown$/m);
    expect(out).toMatch(/^\s+us\s+u1 100%\s+unknown$/m);
    expect(out).toContain(
      [
        "releases waiting (traffic stays where it is until they go on):",
        "  hello  release r7 paused by ops (cbo release resume r7)",
        "  hello/eu  release r7 at step 50%: waits for approval (cbo release promote r7) since 1 min ago",
      ].join("\n"),
    );
    // Nothing waits: no such section.
    const idle = {
      ...waiting,
      workers: [{ ...waiting.workers[0]!, control: { releaseId: "r7", paused: false, pausedBy: null, waiting: [] } }],
    };
    expect(formatStatus(idle, plain, NOW)).not.toContain("releases waiting");
  });
  it("says when nothing is deployed", () => {
    expect(liveText([])).toBe("(not deployed)");
    expect(formatStatus({ tenant: "t", targets: [], workers: [] }, plain)).toBe("tenant t: 0 targets (none), 0 workers\n");
    const idle = formatStatus(
      {
        tenant: "t",
        targets: [target("eu")],
        workers: [{ name: "w", targets: [{ target: "eu", live: [], liveError: null, health: null }], lastRelease: null }],
      },
      plain,
    );
    expect(idle).toMatch(/^w\s+eu\s+\(not deployed\)\s+unknown$/m);
    expect(idle).toContain("  w  no release yet");
  });
});

describe("plan", () => {
  const plan: ReleasePlan = {
    worker: "hello",
    tenant: "default",
    bundleHash: "abcdef0123456789",
    waves: [["eu"], ["us", "ap"]],
    steps: [10, 100],
    gate: {
      probe_path: "/health",
      interval_ms: 100,
      timeout_ms: 1000,
      failure_limit: 3,
      max_error_rate: 0.05,
      bake_ms: 600,
      min_samples: 5,
    },
    targets: [
      { name: "eu", accountId: "acc-eu", previousVersionId: "v1", live: [{ versionId: "v1", percentage: 100 }] },
      { name: "us", accountId: "acc-us", previousVersionId: null, live: [] },
    ],
    actions: [
      { kind: "upload", target: "eu" },
      { kind: "deploy", target: "eu", percent: 10 },
      { kind: "gate", target: "eu", percent: 10 },
    ],
    apiCalls: 17,
  };
  it("lists targets, waves, steps, gate, actions and API calls", () => {
    const out = formatPlan(plan);
    expect(out).toContain("plan: release hello (tenant default), bundle abcdef012345");
    expect(out).toMatch(/eu\s+acc-eu\s+v1 100%\s+v1/);
    expect(out).toMatch(/us\s+acc-us\s+\(not deployed\)\s+-/);
    expect(out).toContain("waves:  1) eu   2) us, ap   (canary first)");
    expect(out).toContain("steps:  10% -> 100% per target");
    expect(out).toContain(
      "gate:   probe /health, every 100 ms, timeout 1000 ms, fail after 3 in a row, max error rate 5%, bake 600 ms, min 5 samples",
    );
    expect(out).toContain("actions (3):\n    1. upload a new version to eu\n    2. deploy eu at 10%\n    3. gate eu at 10%");
    expect(out).toContain("Cloudflare API calls: 17 when every gate passes (retries excluded)");
  });
  it("says that a plan with nothing to change is what --force would do, and that the release spends only its reads", () => {
    const out = formatPlan({
      ...plan,
      targets: plan.targets.map((t) => ({ ...t, phases: [{ phase: "read", summary: "read", apiCalls: 12 }] })),
      diff: {
        worker: "hello",
        changed: false,
        drift: false,
        targets: ["eu", "us"].map((target) => ({
          target,
          live: [],
          versionId: null,
          unknownVersions: [],
          drift: false,
          liveCode: null,
          desiredCode: "c",
          changes: [],
        })),
      },
    });
    expect(out).toContain(
      "Cloudflare API calls: 17 when every gate passes, with --force (retries excluded); without it the release ends unchanged after its reads (24)",
    );
    // Blank lines stay blank when the diff and the per-target details are indented (no trailing spaces).
    expect(out).not.toMatch(/^ +$/m);
  });
  it("words each action", () => {
    expect(actionText({ kind: "deploy", target: "us", percent: 50 })).toBe("deploy us at 50%");
    expect(actionText({ kind: "warm", target: "us" })).toBe("warm us");
    expect(gateText(undefined)).toBe("none");
  });
  it("lists the secrets each target ships, and the withheld ones with the reason", () => {
    const out = formatPlan({
      ...plan,
      secrets: [
        { target: "eu", name: "STRIPE_KEY", version: 3, mode: "binding", delivered: true },
        { target: "eu", name: "EU_TOKEN", version: 1, mode: "relay", delivered: true },
        { target: "us", name: "STRIPE_KEY", version: 3, mode: "binding", delivered: true },
        { target: "us", name: "EU_TOKEN", version: 1, mode: "relay", delivered: false, reason: "tagged eu; us is untagged" },
      ],
    });
    const lines = out.split("\n");
    const at = lines.indexOf("secrets (3 delivered, 1 withheld; names and versions only):");
    expect(at).toBeGreaterThan(0);
    expect(lines[at + 1]).toMatch(/^ {2}TARGET\s+SECRET\s+MODE\s+DELIVERY$/);
    expect(lines.slice(at + 2, at + 6).map((l) => l.trim().split(/\s{2,}/))).toEqual([
      ["eu", "STRIPE_KEY@3", "binding", "inside the version"],
      ["eu", "EU_TOKEN@1", "relay", "through the relay"],
      ["us", "STRIPE_KEY@3", "binding", "inside the version"],
      ["us", "EU_TOKEN@1", "relay", "withheld: tagged eu; us is untagged"],
    ]);
    // A plan without secrets says nothing about them.
    expect(formatPlan(plan)).not.toContain("secrets");
  });
  it("lists, per target, resources to create, bindings with the target's resources, migrations, assets, settings that change and phases", () => {
    const out = formatPlan({
      ...plan,
      targets: [
        {
          ...plan.targets[0]!,
          env: "production",
          upload: "script",
          durableObjectMigration: { oldTag: "v1", newTag: "v2", steps: 1 },
          resources: [
            { kind: "d1", name: "sites", jurisdiction: "eu", usedBy: ["DB"], action: "create" },
            {
              kind: "kv",
              name: "hello-cache",
              usedBy: ["CACHE"],
              action: "use",
              id: "k1",
              note: "no jurisdiction: Cloudflare has none for KV namespaces",
            },
          ],
          bindings: [
            { name: "DB", type: "d1", resource: "d1:sites", id: null },
            { name: "CACHE", type: "kv_namespace", resource: "kv:hello-cache", id: "k1" },
            { name: "GREETING", type: "plain_text" },
          ],
          d1Migrations: [{ binding: "DB", database: "sites", pending: ["0001_init.sql"] }],
          d1Contract: [{ binding: "DB", database: "sites", pending: ["0002_drop.sql"] }],
          assets: { files: 3, bytes: 300, upload: 1, uploadBytes: 20 },
          settings: [
            { setting: "crons", current: ["*/5 * * * *"], desired: ["0 * * * *"], change: true },
            { setting: "workersDev", current: true, desired: true, change: false },
          ],
          phases: [
            { phase: "read", summary: "read the live deployment", apiCalls: 5 },
            { phase: "resources", summary: "create d1 sites (eu)", apiCalls: 2 },
          ],
        },
        plan.targets[1]!,
      ],
    });
    expect(out).toContain("per target:\n  eu: env production; script PUT: serves the new version at 100% at once");
    expect(out).toContain("Durable Object migration v1 -> v2 (1 step(s)); no rollback can go back past it");
    expect(out).toMatch(/d1\s+sites\s+eu\s+create\s+DB/);
    expect(out).toMatch(/kv\s+hello-cache\s+-\s+use k1\s+CACHE\s+no jurisdiction: Cloudflare has none/);
    expect(out).toMatch(/DB\s+d1\s+d1:sites\s+\(created by this release\)/);
    expect(out).toMatch(/GREETING\s+plain_text\s+-\s+-/);
    expect(out).toContain("D1 sites (DB): before any traffic shifts, bookmark then apply 0001_init.sql");
    expect(out).toContain("D1 sites (DB): after every target passed its last gate, contract 0002_drop.sql");
    expect(out).toContain("assets: 3 file(s), 300 bytes; upload 1 new or changed (20 bytes)");
    expect(out).toMatch(/crons\s+\["\*\/5 \* \* \* \*"\]\s+\["0 \* \* \* \*"\]/);
    expect(out).not.toMatch(/workersDev\s+true/);
    expect(out).toContain("1. read: read the live deployment (5 API calls)");
    expect(out).toContain("2. resources: create d1 sites (eu) (2 API calls)");
    // A plan from an older daemon, without these fields: nothing per target.
    expect(formatPlan(plan)).not.toContain("per target:");
    // A release that cannot be gradual says so first, with the flags it needs.
    const ng = formatPlan({
      ...plan,
      nonGradual: { targets: ["eu"], reason: "this version changes Durable Object classes", deletesClasses: ["Old"] },
    });
    expect(ng).toContain("NOT GRADUAL on eu: this version changes Durable Object classes.");
    expect(ng).toContain("cbo release --allow-non-gradual");
    expect(ng).toContain("deletes or renames Durable Object class(es) Old: also needs --confirm-class-deletion");
  });
});

describe("versions", () => {
  const versions = [
    { target: "eu", versionId: "v3", releaseId: "rel_3", createdAt: "t3", live: false },
    { target: "eu", versionId: "v2", releaseId: "rel_2", createdAt: "t2", live: true },
    { target: "eu", versionId: "v1", releaseId: null, createdAt: "t1", live: false },
    { target: "us", versionId: "u1", releaseId: "rel_2", createdAt: "t2", live: true },
  ];
  it("keeps the newest N per target", () => {
    expect(lastPerTarget(versions, 2).map((v) => v.versionId)).toEqual(["v3", "v2", "u1"]);
  });
  it("marks the live version", () => {
    const lines = formatVersions("hello", versions, plain).trimEnd().split("\n");
    expect(lines[0]).toMatch(/^TARGET\s+VERSION\s+LIVE\s+RELEASE\s+CREATED$/);
    expect(lines[2]).toMatch(/^eu\s+v2\s+live\s+rel_2\s+t2$/);
    expect(lines[3]).toMatch(/^eu\s+v1\s+-\s+t1$/);
    expect(formatVersions("hello", [], plain)).toContain("no versions recorded yet");
  });
});

describe("release progress", () => {
  it("opens with waves and steps from the stored plan, and ends with the outcome", () => {
    expect(
      startLine(
        release({
          status: "running",
          plan: { worker: "hello", waves: [["eu"], ["us"]], steps: [10, 100], targets: [], actions: [], apiCalls: 3 },
        }),
      ),
    ).toBe("release rel_1 of hello started: waves [eu] -> [us], steps 10% -> 100%");
    expect(startLine(release({ kind: "rollback" }))).toBe("rollback rel_1 of hello started");
    expect(startLine(release({ kind: "rollback", plan: { resolved: "version v1" } }))).toBe(
      "rollback rel_1 of hello to version v1 started",
    );
    expect(progressLine(event("release.step.started", { percent: 10 }), plain)).toBe("  11:58:01  eu     step 10% started");
    const startedAt = NOW - 4200;
    expect(endLine(release({ status: "rolled_back", reason: "gate failed" }), startedAt, plain, NOW)).toBe(
      "release rel_1 rolled back after 4.2 s: gate failed",
    );
    expect(endLine(release({ kind: "rollback" }), startedAt, plain, NOW)).toBe("rollback rel_1 succeeded after 4.2 s");
  });
});

describe("cbo diff", () => {
  it("says why a ? line is unknown, and an arrow for a change", () => {
    const out = formatDiff({
      worker: "w",
      changed: true,
      drift: true,
      targets: [
        {
          target: "eu",
          live: [{ versionId: "v9", percentage: 100 }],
          versionId: "v9",
          unknownVersions: ["v9"],
          drift: true,
          liveCode: null,
          desiredCode: "c",
          changes: [
            { area: "code", item: "v9", change: "unknown", live: "not uploaded by the orchestrator" },
            { area: "vars", item: "GREETING", change: "changed", live: "a", desired: "b" },
          ],
        },
      ],
    });
    expect(out).toMatch(/\? code +v9 +not uploaded by the orchestrator\n/);
    expect(out).toMatch(/~ vars +GREETING +a -> b\n/);
  });

  it("ends with what answering it read from Cloudflare, the reused reads said as such", () => {
    const diff = { worker: "w", changed: false, drift: false, targets: [] };
    expect(formatDiff({ ...diff, reads: { sent: 4, reused: 8, reuseMs: 5000 } })).toMatch(
      /\nreads for this diff: 12 requests \(8 reused from the last 5 s\)\n$/,
    );
    expect(formatDiff({ ...diff, reads: { sent: 1, reused: 0, reuseMs: 5000 } })).toMatch(/\nreads for this diff: 1 request\n$/);
    expect(formatDiff(diff)).not.toMatch(/reads for/);
  });

  it("describes a release waiting for the Cloudflare request budget", () => {
    expect(describeEvent(event("release.budget.waiting", { waitMs: 41_200, queued: 34, reason: "…" }))).toBe(
      "waiting for Cloudflare request budget, ~42 s",
    );
  });
});
