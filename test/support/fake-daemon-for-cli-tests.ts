// fakeDaemonForCliTests: a TEST DOUBLE of the daemon's REST/WS API (the contract in the issue-3
// brief), on real HTTP and a real WebSocket on 127.0.0.1. It lets the CLI tests drive outcomes the
// real engine produces only slowly or rarely (a system failure, a dropped stream) and check the
// client, daemon discovery, error mapping, exit codes and --json. It is not the daemon: the
// end-to-end test (test/cli-e2e.test.ts) runs the CLI against the real API, engine and local edge.
//
// Scripted workers: `good` releases and succeeds, `bad` fails its canary gate and is rolled back,
// `broken` fails for a system reason, `outage` is rolled back because the edge refused a deployment, `recovered` ends (rolled back) without a release.* end event, as
// a release finished by a restarted daemon's recovery might, and `slow` stays at its first step. Tokens: ADMIN_TOKEN (admin), VIEWER_TOKEN (viewer).
import http from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocketServer, type WebSocket } from "ws";

export const ADMIN_TOKEN = "cbo_fake_admin_0123456789abcdef";
export const VIEWER_TOKEN = "cbo_fake_viewer_0123456789abcdef";

type Event = {
  id: number;
  tenant: string;
  type: string;
  release_id: string | null;
  worker: string | null;
  target: string | null;
  data: Record<string, unknown>;
  at: string;
};
type Release = {
  id: string;
  tenant: string;
  worker: string;
  kind: "release" | "rollback";
  status: string;
  reason: string | null;
  plan: Record<string, unknown>;
  created_by: string | null;
  created_at: string;
  updated_at: string;
};

export type FakeDaemon = {
  url: string;
  events: Event[];
  releases: Map<string, Release>;
  /** Every request as "METHOD /path?query", with its body when it had one. */
  requests: Array<{ method: string; path: string; body: unknown; authorized: boolean }>;
  /** Appends an event (and streams it), as the engine or the monitor would. */
  emit(e: Omit<Event, "id" | "at" | "tenant">): Event;
  /** Cuts the event stream connection that carries the next `n`-th message (once), as a daemon restart would. */
  dropStreamsAfter(n: number): void;
  close(): Promise<void>;
};

const WORKERS = ["good", "bad", "broken", "recovered", "slow", "outage"] as const;
const TARGETS = ["eu", "us", "ap"];
const STEPS = [10, 100];
const now = () => new Date().toISOString();

function json(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}
const error = (res: http.ServerResponse, status: number, code: string, message: string) => json(res, status, { error: { code, message } });

export async function fakeDaemonForCliTests(opts: { stepMs?: number } = {}): Promise<FakeDaemon> {
  const stepMs = opts.stepMs ?? 20;
  const events: Event[] = [];
  const releases = new Map<string, Release>();
  const requests: FakeDaemon["requests"] = [];
  const sockets = new Set<{ ws: WebSocket; after: number }>();
  const live = new Map<string, Record<string, string>>(WORKERS.map((w) => [w, Object.fromEntries(TARGETS.map((t) => [t, `${w}-v1`]))]));
  const timers = new Set<NodeJS.Timeout>();
  let dropAfter: number | undefined;
  let seq = 0;

  const send = (s: { ws: WebSocket }, e: Event) => {
    s.ws.send(JSON.stringify(e));
    if (dropAfter !== undefined && --dropAfter <= 0) {
      dropAfter = undefined;
      s.ws.terminate();
    }
  };

  const emit: FakeDaemon["emit"] = (e) => {
    const stored: Event = { ...e, id: events.length + 1, tenant: "default", at: now() };
    events.push(stored);
    for (const s of sockets) send(s, stored);
    return stored;
  };

  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };

  const planOf = (worker: string) => ({
    worker,
    tenant: "default",
    bundleHash: "0123456789abcdef0123",
    waves: [["eu"], ["us", "ap"]],
    steps: STEPS,
    gate: {
      probe_path: "/health",
      interval_ms: 100,
      timeout_ms: 1000,
      failure_limit: 3,
      max_error_rate: 0.05,
      bake_ms: 600,
      min_samples: 5,
    },
    targets: TARGETS.map((t) => ({
      name: t,
      accountId: `acct-${t}`,
      previousVersionId: live.get(worker)![t]!,
      live: [{ versionId: live.get(worker)![t]!, percentage: 100 }],
    })),
    actions: TARGETS.flatMap((t) => [
      { kind: "upload", target: t },
      ...STEPS.flatMap((p) => [
        { kind: "deploy", target: t, percent: p },
        { kind: "gate", target: t, percent: p },
      ]),
    ]),
    apiCalls: TARGETS.length * (1 + STEPS.length),
  });

  const finish = (r: Release, status: string, reason: string | null, type: string) => {
    r.status = status;
    r.reason = reason;
    r.updated_at = now();
    emit({ type, release_id: r.id, worker: r.worker, target: null, data: reason ? { reason } : {} });
  };

  /** Plays a release as the engine would, one event per `stepMs`. */
  function play(r: Release): void {
    const script: Array<() => void> = [];
    const ev =
      (type: string, target: string | null, data: Record<string, unknown> = {}) =>
      () =>
        emit({ type, release_id: r.id, worker: r.worker, target, data });
    const version = `${r.worker}-v${seq + 1}`;
    script.push(ev("release.created", null, { waves: [["eu"], ["us", "ap"]], steps: STEPS, apiCalls: 9 }));
    if (r.worker === "slow") {
      script.push(ev("release.step.started", "eu", { percent: 10 }));
    } else if (r.worker === "recovered") {
      script.push(ev("release.step.started", "eu", { percent: 10 }));
      script.push(() => {
        r.status = "rolled_back";
        r.reason = "rolled back by recovery after a restart";
        emit({ type: "release.recovered", release_id: r.id, worker: r.worker, target: null, data: { reason: r.reason } });
      });
    } else if (r.worker === "outage") {
      script.push(ev("release.step.failed", "eu", { stage: "the 10% step", reason: "eu: the 10% step failed: Cloudflare is unreachable" }));
      script.push(ev("release.rolling_back", null, { targets: ["eu"], kind: "edge", reason: "eu: the 10% step failed" }));
      script.push(() => finish(r, "rolled_back", "eu: the 10% step failed; eu back on outage-v1", "release.rolled_back"));
    } else if (r.worker === "broken") {
      script.push(() => finish(r, "failed", "the Cloudflare API of eu is unreachable", "release.failed"));
    } else {
      script.push(ev("release.target.uploaded", "eu", { versionId: version }));
      script.push(ev("release.step.started", "eu", { percent: 10 }));
      if (r.worker === "bad") {
        script.push(ev("release.step.failed", "eu", { percent: 10, reason: "3 probes failed in a row", samples: 5, errors: 3 }));
        script.push(ev("release.rolling_back", null, { targets: ["eu"], kind: "gate", reason: "gate failed on eu at 10%" }));
        // The engine's automatic rollback may report itself with rollback.* events: not the end.
        script.push(ev("rollback.completed", "eu", { reason: `eu back on ${r.worker}-v1` }));
        script.push(() => finish(r, "rolled_back", "gate failed on eu at 10%", "release.rolled_back"));
      } else {
        for (const t of TARGETS) {
          if (t !== "eu") script.push(ev("release.target.uploaded", t, { versionId: version }));
          for (const p of STEPS) {
            if (!(t === "eu" && p === 10)) script.push(ev("release.step.started", t, { percent: p }));
            script.push(ev("release.step.passed", t, { percent: p, samples: 6, errors: 0 }));
          }
        }
        script.push(() => {
          for (const t of TARGETS) live.get(r.worker)![t] = version;
          finish(r, "succeeded", null, "release.succeeded");
        });
      }
    }
    // release.created is written before the POST answers, as the real engine does.
    script.shift()!();
    script.forEach((fn, i) => later(stepMs * (i + 1), fn));
  }

  function playRollback(r: Release, to: string): void {
    const targets = TARGETS.map((name) => ({ name, versionId: to }));
    emit({ type: "rollback.started", release_id: r.id, worker: r.worker, target: null, data: { to, resolved: `version ${to}`, targets } });
    later(stepMs, () => {
      for (const t of TARGETS) live.get(r.worker)![t] = to;
      r.status = "succeeded";
      r.reason = `to version ${to}; ${TARGETS.map((t) => `${t} on ${to}`).join(", ")}`;
      r.updated_at = now();
      emit({ type: "rollback.completed", release_id: r.id, worker: r.worker, target: null, data: { reason: r.reason, targets } });
    });
  }

  const newRelease = (worker: string, kind: Release["kind"], by: string): Release => {
    seq++;
    const r: Release = {
      id: `rel_${seq}`,
      tenant: "default",
      worker,
      kind,
      status: "running",
      reason: null,
      plan: kind === "release" ? planOf(worker) : {},
      created_by: by,
      created_at: now(),
      updated_at: now(),
    };
    releases.set(r.id, r);
    return r;
  };

  const roleOf = (header: string | undefined, queryToken: string | null): "admin" | "viewer" | undefined => {
    const token = header?.startsWith("Bearer ") ? header.slice(7) : queryToken;
    return token === ADMIN_TOKEN ? "admin" : token === VIEWER_TOKEN ? "viewer" : undefined;
  };

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    let body: unknown;
    if (text) {
      try {
        body = JSON.parse(text);
      } catch {
        return error(res, 400, "ERR_VALIDATION", "The body is not JSON.");
      }
    }
    const role = roleOf(req.headers.authorization, null);
    requests.push({ method: req.method ?? "", path: url.pathname + url.search, body, authorized: role !== undefined });
    const path = url.pathname;
    if (path === "/v1/health") return json(res, 200, { ok: true });
    if (!role) return error(res, 401, "ERR_UNAUTHORIZED", "Missing or unknown bearer token.");
    const workerOf = (name: string | undefined) => ((WORKERS as readonly string[]).includes(name ?? "") ? name! : undefined);
    let m: RegExpExecArray | null;

    if (req.method === "GET" && path === "/v1/status") {
      return json(res, 200, {
        tenant: "default",
        targets: TARGETS.map((t) => ({ name: t, api: "local", accountId: `acct-${t}`, region: t, jurisdiction: t })),
        workers: WORKERS.map((w) => ({
          name: w,
          targets: TARGETS.map((t) => ({
            target: t,
            live: [{ versionId: live.get(w)![t]!, percentage: 100 }],
            liveError: null,
            health: { status: "healthy", versionId: live.get(w)![t]!, latencyMs: 2, checkedAt: now() },
          })),
          lastRelease: [...releases.values()].filter((r) => r.worker === w).at(-1) ?? null,
        })),
      });
    }
    if ((m = /^\/v1\/workers\/([^/]+)\/(plan|versions|rollback|rollback\/preview)$/.exec(path))) {
      const worker = workerOf(decodeURIComponent(m[1]!));
      if (!worker) return error(res, 404, "ERR_NOT_FOUND", `No worker "${decodeURIComponent(m[1]!)}" in orchestrator.yaml.`);
      if (m[2] === "plan" && req.method === "GET") return json(res, 200, planOf(worker));
      if (m[2] === "versions" && req.method === "GET") {
        return json(res, 200, {
          items: TARGETS.flatMap((t) =>
            [2, 1].map((n) => ({
              target: t,
              versionId: `${worker}-v${n}`,
              releaseId: n === 1 ? null : "rel_x",
              createdAt: now(),
              live: live.get(worker)![t] === `${worker}-v${n}`,
            })),
          ),
        });
      }
      if (m[2] === "rollback/preview" && req.method === "GET") {
        const to = new URL(req.url ?? "/", "http://x").searchParams.get("to") ?? `${worker}-v1`;
        return json(res, 200, {
          worker,
          to,
          resolved: `version ${to}`,
          targets: TARGETS.map((t) => ({
            name: t,
            from: live.get(worker)![t],
            to,
            secrets: [],
            config: { version: null, change: "none", note: "no signed config published: nothing to change" },
            newerMigrations: [],
            breaksRollback: [],
          })),
          skipped: [],
          warnings: [],
          needs: { confirmSecretDowngrade: false, force: false },
        });
      }
      if (m[2] === "rollback" && req.method === "POST") {
        if (role !== "admin") return error(res, 403, "ERR_FORBIDDEN", "A viewer token cannot roll back.");
        const to = (body as { to?: string } | undefined)?.to ?? `${worker}-v1`;
        const r = newRelease(worker, "rollback", "admin");
        r.plan = { kind: "rollback", worker, to, resolved: `version ${to}` };
        playRollback(r, to);
        return json(res, 202, r);
      }
    }
    if (req.method === "POST" && path === "/v1/releases") {
      if (role !== "admin") return error(res, 403, "ERR_FORBIDDEN", "A viewer token cannot release.");
      const worker = workerOf((body as { worker?: string } | undefined)?.worker);
      if (!worker)
        return error(res, 404, "ERR_NOT_FOUND", `No worker "${(body as { worker?: string } | undefined)?.worker}" in orchestrator.yaml.`);
      const r = newRelease(worker, "release", "admin");
      play(r);
      return json(res, 202, r);
    }
    if (req.method === "GET" && (m = /^\/v1\/releases\/([^/]+)$/.exec(path))) {
      const r = releases.get(decodeURIComponent(m[1]!));
      if (!r) return error(res, 404, "ERR_NOT_FOUND", "No such release.");
      return json(res, 200, { release: r, journal: [] });
    }
    if (req.method === "GET" && path === "/v1/events") {
      const after = Number(url.searchParams.get("after") ?? 0);
      const release = url.searchParams.get("release");
      const limit = Number(url.searchParams.get("limit") ?? 1000);
      const matching = events.filter((e) => e.id > after && (!release || e.release_id === release));
      // One page, as the daemon answers (this fake never has a second page); order=desc: newest first.
      return json(res, 200, {
        items: url.searchParams.get("order") === "desc" ? matching.reverse().slice(0, limit) : matching.slice(0, limit),
      });
    }
    return error(res, 404, "ERR_NOT_FOUND", `No route ${req.method} ${path}.`);
  });

  const wss = new WebSocketServer({ noServer: true, handleProtocols: (p) => (p.has("cbo.v1") ? "cbo.v1" : false) });
  server.on("upgrade", (req, socket, head) => {
    const url = new URL(req.url ?? "/", "http://x");
    const refuse = (status: number, code: string, message: string) => {
      const text = JSON.stringify({ error: { code, message } });
      socket.end(
        `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`,
      );
    };
    if (url.pathname !== "/v1/events/stream") return refuse(404, "ERR_NOT_FOUND", "No such stream.");
    // The token as the daemon takes it: the Authorization header, or the cbo.token.<token> subprotocol (never the URL).
    const offered = String(req.headers["sec-websocket-protocol"] ?? "")
      .split(",")
      .map((p) => p.trim());
    const viaProtocol = offered.find((p) => p.startsWith("cbo.token."))?.slice("cbo.token.".length) ?? null;
    if (url.searchParams.has("token")) return refuse(400, "ERR_TOKEN_IN_URL", "No token in the URL.");
    if (!roleOf(req.headers.authorization, viaProtocol)) return refuse(401, "ERR_UNAUTHORIZED", "Missing or unknown bearer token.");
    const after = Number(url.searchParams.get("after") ?? 0);
    if (!Number.isInteger(after) || after < 0) return refuse(400, "ERR_VALIDATION", "after must be a whole number.");
    wss.handleUpgrade(req, socket, head, (ws) => {
      const s = { ws, after };
      // Replay then live, in one synchronous turn: no event can slip between the two.
      for (const e of events) if (e.id > after && ws.readyState === ws.OPEN) send(s, e);
      if (ws.readyState !== ws.OPEN) return;
      sockets.add(s);
      ws.on("close", () => sockets.delete(s));
    });
  });

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    events,
    releases,
    requests,
    emit,
    dropStreamsAfter(n) {
      dropAfter = n;
    },
    async close() {
      for (const t of timers) clearTimeout(t);
      for (const s of sockets) s.ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
