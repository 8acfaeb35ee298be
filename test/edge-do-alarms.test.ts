// Durable Object alarms on the local edge, through real workerd: the user's class runs as a facet,
// which workerd lets set no alarm, so the edge keeps each object's alarm on its host
// (src/local-edge/workers/do-alarms.ts). setAlarm / getAlarm / deleteAlarm behave as at Cloudflare,
// alarm() may set the next one, a throw is retried, and an alarm runs the code deployed when it fires.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestEdge, type TestEdge } from "./support/edge.ts";
import { edgeApi, type EdgeApi } from "./support/edge-api.ts";
import { eventually, httpGet } from "./support/http.ts";

const worker = (v: string) => `
import { DurableObject } from "cloudflare:workers";
export class Timer extends DurableObject {
  async fetch(req) {
    const u = new URL(req.url);
    const kv = this.ctx.storage.kv;
    if (u.pathname === "/set") {
      kv.put("repeat", Number(u.searchParams.get("repeat") ?? 0));
      kv.put("fail", Number(u.searchParams.get("fail") ?? 0));
      await this.ctx.storage.setAlarm(new Date(Date.now() + Number(u.searchParams.get("ms"))));
    }
    if (u.pathname === "/odd") {
      const v = { nan: NaN, invalid: new Date("not a date"), past: 1, negative: -1, far: 8.64e15, beyond: 8.64e15 + 1, text: "soon", none: undefined }[u.searchParams.get("at")];
      try { await this.ctx.storage.setAlarm(v); } catch (e) { return Response.json({ error: String(e.message), alarm: await this.ctx.storage.getAlarm() }); }
    }
    if (u.pathname === "/delete") await this.ctx.storage.deleteAlarm();
    if (u.pathname === "/txn") await this.ctx.storage.transaction(async (txn) => txn.setAlarm(Date.now() + Number(u.searchParams.get("ms"))));
    if (u.pathname === "/txn-undone") {
      // Each alarm change below is undone with its transaction; "seen" is what the transaction saw.
      const s = this.ctx.storage;
      const at = Date.now() + 60_000;
      await s.setAlarm(at);
      const out = { at };
      try {
        await s.transaction(async (txn) => { await txn.put("k", 1); await txn.setAlarm(Date.now() + 200); out.seen = await txn.getAlarm(); throw new Error("undo"); });
      } catch (e) { out.thrown = e.message; }
      out.afterThrow = await s.getAlarm();
      await s.transaction(async (txn) => { await txn.deleteAlarm(); out.seenDeleted = await txn.getAlarm(); txn.rollback(); });
      out.afterRollback = await s.getAlarm();
      try { s.transactionSync(() => { s.setAlarm(Date.now() + 200); throw new Error("undo sync"); }); } catch (e) { out.thrownSync = e.message; }
      out.afterSync = await s.getAlarm();
      // A time the runtime refuses is refused in a transaction too, in the same words.
      for (const [name, v] of [["txnNegative", -1], ["txnFar", 8.64e15], ["txnNaN", NaN]]) {
        try { await s.transaction(async (txn) => { await txn.setAlarm(v); }); out[name] = "taken"; } catch (e) { out[name] = e.message; }
      }
      out.afterOdd = await s.getAlarm();
      out.k = (await s.get("k")) ?? null;
      s.transactionSync(() => { s.deleteAlarm(); });
      out.afterSyncCommit = await s.getAlarm();
      await s.transaction(async (txn) => { await txn.setAlarm(at + 1); });
      out.afterCommit = await s.getAlarm();
      return Response.json(out);
    }
    if (u.pathname === "/delete-all") {
      kv.put("kept", 1);
      await this.ctx.storage.setAlarm(Date.now() + Number(u.searchParams.get("ms")));
      await this.ctx.storage.deleteAll();
      return Response.json({ alarm: await this.ctx.storage.getAlarm(), kept: kv.get("kept") ?? null, runs: kv.get("runs") ?? [] });
    }
    return Response.json({ alarm: await this.ctx.storage.getAlarm(), runs: kv.get("runs") ?? [] });
  }
  async alarm(info) {
    const kv = this.ctx.storage.kv;
    const fail = kv.get("fail") ?? 0;
    if (fail > 0) {
      kv.put("fail", fail - 1);
      throw new Error("alarm failed on purpose");
    }
    const runs = [...(kv.get("runs") ?? []), { v: "${v}", retry: info?.retryCount ?? 0, alarmNow: await this.ctx.storage.getAlarm() }];
    kv.put("runs", runs);
    const repeat = kv.get("repeat") ?? 0;
    if (repeat > 0) {
      kv.put("repeat", repeat - 1);
      await this.ctx.storage.setAlarm(Date.now() + 50);
    }
  }
}
export class NoAlarm extends DurableObject {
  async fetch() {
    try { await this.ctx.storage.setAlarm(Date.now() + 50); return new Response("set"); } catch (e) { return new Response(String(e.message), { status: 500 }); }
  }
}
export default {
  async fetch(req, env) {
    const u = new URL(req.url);
    const ns = u.searchParams.get("class") === "NoAlarm" ? env.NO_ALARM : env.TIMER;
    return ns.get(ns.idFromName(u.searchParams.get("name") ?? "a")).fetch(req);
  },
};`;

type Run = { v: string; retry: number; alarmNow: number | null };
type State = { alarm: number | null; runs: Run[] };

describe("Durable Object alarms on the local edge", () => {
  let t: TestEdge;
  let api: EdgeApi;
  const get = async (path: string): Promise<State> => {
    const r = await httpGet(t.region.port, "timers.localhost", { path });
    expect(r.status, r.body).toBe(200);
    return JSON.parse(r.body) as State;
  };
  const deploy = async (v: string, migrations?: unknown, script = "timers", compatibilityDate = "2025-01-01") => {
    const r = await api.call(
      "PUT",
      `/workers/scripts/${script}`,
      api.upload(
        {
          main_module: "index.js",
          compatibility_date: compatibilityDate,
          bindings: [
            { type: "durable_object_namespace", name: "TIMER", class_name: "Timer" },
            { type: "durable_object_namespace", name: "NO_ALARM", class_name: "NoAlarm" },
          ],
          ...(migrations ? { migrations } : {}),
        },
        { "index.js": worker(v) },
      ),
    );
    expect(r.status, JSON.stringify(r.errors)).toBe(200);
  };

  beforeAll(async () => {
    t = await startTestEdge();
    api = edgeApi(t.edge, t.region);
    await deploy("v1", { new_tag: "v1", steps: [{ new_sqlite_classes: ["Timer", "NoAlarm"] }] });
    // deleteAll() deletes the alarm from compatibility date 2026-02-24 on.
    await deploy("v1", { new_tag: "v1", steps: [{ new_sqlite_classes: ["Timer", "NoAlarm"] }] }, "timers-2026", "2026-03-01");
  });
  afterAll(async () => {
    await t?.dispose();
  });

  it("setAlarm schedules, getAlarm reads it back, alarm() runs once and the alarm is then gone", async () => {
    const before = Date.now();
    const set = await get("/set?name=once&ms=300");
    expect(set.alarm).toBeGreaterThanOrEqual(before + 300);
    expect(set.alarm).toBeLessThan(before + 5_000);
    expect(set.runs).toEqual([]);
    await eventually(async () => {
      expect((await get("/?name=once")).runs).toEqual([{ v: "v1", retry: 0, alarmNow: null }]);
    });
    expect((await get("/?name=once")).alarm).toBeNull();
    // Objects do not share alarms.
    expect((await get("/?name=other")).runs).toEqual([]);
  });

  it("alarm() may set the next one", async () => {
    await get("/set?name=repeat&ms=50&repeat=2");
    await eventually(async () => {
      expect((await get("/?name=repeat")).runs).toHaveLength(3);
    });
    await new Promise((r) => setTimeout(r, 300));
    expect((await get("/?name=repeat")).runs).toHaveLength(3);
  });

  it("deleteAlarm cancels it", async () => {
    expect((await get("/set?name=cancelled&ms=400")).alarm).not.toBeNull();
    expect((await get("/delete?name=cancelled")).alarm).toBeNull();
    await new Promise((r) => setTimeout(r, 800));
    expect((await get("/?name=cancelled")).runs).toEqual([]);
  });

  it("a transaction's txn sets one too", async () => {
    expect((await get("/txn?name=txn&ms=100")).alarm).not.toBeNull();
    await eventually(async () => {
      expect((await get("/?name=txn")).runs).toHaveLength(1);
    });
  });

  it("a transaction's alarm change is undone with it: a throw, txn.rollback(), a throwing transactionSync()", async () => {
    const r = await httpGet(t.region.port, "timers.localhost", { path: "/txn-undone?name=undone" });
    expect(r.status, r.body).toBe(200);
    const out = JSON.parse(r.body) as Record<string, number | string | null>;
    const at = out["at"] as number;
    expect(out).toEqual({
      at,
      seen: expect.any(Number),
      thrown: "undo",
      afterThrow: at,
      seenDeleted: null,
      afterRollback: at,
      thrownSync: "undo sync",
      afterSync: at,
      txnNegative: "setAlarm() cannot be called with an alarm time <= 0",
      txnFar: "This API doesn't support dates after 2189.",
      txnNaN: "setAlarm() needs a time: a Date or milliseconds since the epoch.",
      afterOdd: at,
      k: null,
      afterSyncCommit: null,
      afterCommit: at + 1,
    });
    expect(out["seen"]).toBeLessThan(at);
    await get("/delete?name=undone");
  });

  it("deleteAll() keeps the alarm before compatibility date 2026-02-24 and deletes it from then on, as workerd does", async () => {
    const before = await get("/delete-all?name=wiped&ms=400");
    expect(before.alarm).not.toBeNull();
    const r = await httpGet(t.region.port, "timers-2026.localhost", { path: "/delete-all?name=wiped&ms=400" });
    expect(r.status, r.body).toBe(200);
    expect(JSON.parse(r.body)).toEqual({ alarm: null, kept: null, runs: [] });
    // The old date's alarm still runs (on the emptied storage); the new date's never does.
    await eventually(async () => {
      expect((await get("/?name=wiped")).runs).toHaveLength(1);
    });
    await new Promise((res) => setTimeout(res, 500));
    const after = await httpGet(t.region.port, "timers-2026.localhost", { path: "/?name=wiped" });
    expect(JSON.parse(after.body)).toEqual({ alarm: null, runs: [] });
  });

  it("a throwing alarm() is retried", async () => {
    await get("/set?name=flaky&ms=50&fail=1");
    await eventually(async () => {
      const runs = (await get("/?name=flaky")).runs;
      expect(runs).toHaveLength(1);
      expect(runs[0]!.retry).toBeGreaterThanOrEqual(1);
    }, 20_000);
    // The failure no caller sees is in the region's log.
    expect(
      t.lines.some((l) => /Durable Object alarm of object \w+ in namespace \w+ failed \(retry 0, .*\): alarm failed on purpose/.test(l)),
    ).toBe(true);
  });

  it("an alarm runs the code deployed when it fires", async () => {
    await get("/set?name=upgraded&ms=1500");
    await deploy("v2");
    await eventually(async () => {
      expect((await get("/?name=upgraded")).runs.map((r) => r.v)).toEqual(["v2"]);
    });
  });

  it("a class without alarm() cannot set one, in Cloudflare's words", async () => {
    const r = await httpGet(t.region.port, "timers.localhost", { path: "/?class=NoAlarm" });
    expect(r.status).toBe(500);
    expect(r.body).toBe("Your Durable Object class must have an alarm() handler in order to call setAlarm()");
  });

  it("odd alarm times are refused in workerd's words and set nothing; a time in the past runs at once; workerd stays up", async () => {
    const odd = async (at: string, name: string) => (await get(`/odd?at=${at}&name=${name}`)) as State & { error?: string };
    const refusals: Record<string, string> = {};
    for (const at of ["nan", "invalid", "text", "none", "negative", "far", "beyond"]) {
      const r = await odd(at, `odd-${at}`);
      expect(r.alarm, at).toBeNull();
      refusals[at] = r.error ?? "";
    }
    const needsTime = "setAlarm() needs a time: a Date or milliseconds since the epoch.";
    expect(refusals).toEqual({
      nan: needsTime,
      invalid: needsTime,
      text: needsTime,
      none: needsTime,
      negative: "setAlarm() cannot be called with an alarm time <= 0",
      far: "This API doesn't support dates after 2189.",
      beyond: "This API doesn't support dates after 2189.",
    });
    expect((await odd("past", "odd-past")).error).toBeUndefined();
    await eventually(async () => {
      expect((await get("/?name=odd-past")).runs).toHaveLength(1);
    });
  });
});

describe("a Durable Object alarm of a class a migration deleted", () => {
  let t: TestEdge;
  let api: EdgeApi;
  const source = (withClass: boolean) => `
import { DurableObject } from "cloudflare:workers";
${
  withClass
    ? `export class Doomed extends DurableObject {
  async fetch() { await this.ctx.storage.setAlarm(Date.now() + 700); return new Response("set"); }
  async alarm() { console.log("doomed alarm ran"); }
}`
    : ""
}
export default { async fetch(req, env) { return env.DOOMED ? env.DOOMED.getByName("a").fetch(req) : new Response("gone"); } };`;
  const deploy = async (withClass: boolean, migrations: unknown) => {
    const r = await api.call(
      "PUT",
      "/workers/scripts/doomed",
      api.upload(
        {
          main_module: "index.js",
          compatibility_date: "2025-01-01",
          bindings: withClass ? [{ type: "durable_object_namespace", name: "DOOMED", class_name: "Doomed" }] : [],
          migrations,
        },
        { "index.js": source(withClass) },
      ),
    );
    expect(r.status, JSON.stringify(r.errors)).toBe(200);
  };

  beforeAll(async () => {
    t = await startTestEdge();
    api = edgeApi(t.edge, t.region);
  });
  afterAll(async () => {
    await t?.dispose();
  });

  it("is dropped, not retried", async () => {
    await deploy(true, { new_tag: "v1", steps: [{ new_sqlite_classes: ["Doomed"] }] });
    expect((await httpGet(t.region.port, "doomed.localhost", { path: "/" })).body).toBe("set");
    await deploy(false, { old_tag: "v1", new_tag: "v2", steps: [{ deleted_classes: ["Doomed"] }] });
    expect((await httpGet(t.region.port, "doomed.localhost", { path: "/" })).body).toBe("gone");
    // workerd would retry a throwing alarm after 2 s, then 4 s: 7 s cover the first two retries.
    await new Promise((res) => setTimeout(res, 7_000));
    const ours = t.lines.filter((l) => l.includes("Durable Object alarm of object"));
    expect(ours).toHaveLength(1);
    expect(ours[0]).toMatch(/Durable Object alarm of object [0-9a-f]{64} dropped: its namespace [0-9a-f]+ was deleted by a migration\./);
  });
});
