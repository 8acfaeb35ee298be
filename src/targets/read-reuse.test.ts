import { describe, expect, it } from "vitest";
import { currentCallScope, interactive, withCallScope, type CallTally, type CloudflareClient } from "../cloudflare/index.ts";
import { CboError } from "../kit/errors.ts";
import { createReadReuse } from "./read-reuse.ts";

// A stand-in for the Cloudflare client (the client itself has its own tests against the local
// edge): it counts calls and lets a test hold an answer back. Each call "sends" one request, as
// the transport would count it for the scope's tally.
function fakeClient() {
  const calls: string[] = [];
  const held: Array<{ resolve: (v: unknown) => void; signal: AbortSignal | undefined }> = [];
  let hold = false;
  let deployed = "v1";
  const answer = async (name: string, value: () => unknown) => {
    calls.push(name);
    const scope = currentCallScope();
    if (scope?.tally) scope.tally.sent++;
    if (!hold) return value();
    return new Promise((resolve, reject) => {
      const signal = scope?.signal;
      signal?.addEventListener("abort", () => reject(signal.reason), { once: true });
      held.push({ resolve: () => resolve(value()), signal });
    });
  };
  const client = {
    listDeployments: (script: string) => answer(`listDeployments ${script}`, () => [{ id: deployed, versions: [] }]),
    queryD1: (_id: string, q: { sql: string }) => answer(`queryD1 ${q.sql}`, () => [{ results: [] }]),
    createDeployment: async () => {
      calls.push("createDeployment");
      deployed = "v2";
      return { id: "v2" };
    },
  } as unknown as CloudflareClient;
  return {
    client,
    answer,
    calls,
    held,
    holdAnswers: (on: boolean) => (hold = on),
    release: () => held.splice(0).forEach((h) => h.resolve(undefined)),
  };
}

const tally = (): CallTally => ({ sent: 0, reused: 0 });

describe("read reuse", () => {
  it("answers a person's repeated read from the last few seconds, and counts it as reused", async () => {
    let t = 0;
    const fake = fakeClient();
    const client = createReadReuse({ ttlMs: 5_000, now: () => t }).wrap(fake.client);
    const first = tally();
    await interactive(undefined, () => client.listDeployments("api"), first);
    t = 4_000;
    const second = tally();
    const again = await interactive(undefined, () => client.listDeployments("api"), second);
    expect(again).toEqual([{ id: "v1", versions: [] }]);
    expect(fake.calls).toEqual(["listDeployments api"]);
    expect(first).toEqual({ sent: 1, reused: 0 });
    expect(second).toEqual({ sent: 0, reused: 1 });
    // A different read is its own; past the window the read is made again.
    await interactive(undefined, () => client.listDeployments("other"));
    t = 9_500;
    await interactive(undefined, () => client.listDeployments("api"));
    expect(fake.calls).toEqual(["listDeployments api", "listDeployments other", "listDeployments api"]);
  });

  it("sends the daemon's own reads every time, and keeps their answer for people", async () => {
    const fake = fakeClient();
    const client = createReadReuse().wrap(fake.client);
    await client.listDeployments("api");
    await withCallScope({ priority: "normal" }, () => client.listDeployments("api"));
    expect(fake.calls).toHaveLength(2);
    const person = tally();
    await interactive(undefined, () => client.listDeployments("api"), person);
    expect(fake.calls).toHaveLength(2);
    expect(person).toEqual({ sent: 0, reused: 1 });
  });

  it("forgets every read when the daemon writes to the target, including one in flight meanwhile", async () => {
    const fake = fakeClient();
    const client = createReadReuse().wrap(fake.client);
    await interactive(undefined, () => client.listDeployments("api"));
    await client.createDeployment("api", [{ versionId: "v2", percentage: 100 }]);
    const after = await interactive(undefined, () => client.listDeployments("api"));
    expect(after).toEqual([{ id: "v2", versions: [] }]);
    expect(fake.calls).toEqual(["listDeployments api", "createDeployment", "listDeployments api"]);

    // A read that started before a write must not be kept: it may have seen the old state.
    fake.holdAnswers(true);
    const stale = interactive(undefined, () => client.listDeployments("web"));
    await Promise.resolve();
    await client.createDeployment("web", []);
    fake.release();
    await stale;
    fake.holdAnswers(false);
    await interactive(undefined, () => client.listDeployments("web"));
    expect(fake.calls.filter((c) => c === "listDeployments web")).toHaveLength(2);
  });

  it("keeps the edge's own refusal (a Worker not deployed yet), but not a failure that says nothing about the target", async () => {
    const fake = fakeClient();
    let answer: () => unknown = () => {
      throw new CboError("ERR_NOT_FOUND", "This Worker does not exist on your account.", { details: { status: 404 } });
    };
    const client = createReadReuse().wrap({
      ...fake.client,
      getScriptSettings: () => fake.answer("settings", () => answer()),
    } as CloudflareClient);
    const first = tally();
    const second = tally();
    await expect(interactive(undefined, () => client.getScriptSettings("api"), first)).rejects.toMatchObject({ code: "ERR_NOT_FOUND" });
    await expect(interactive(undefined, () => client.getScriptSettings("api"), second)).rejects.toMatchObject({ code: "ERR_NOT_FOUND" });
    expect(fake.calls).toEqual(["settings"]);
    expect([first, second]).toEqual([
      { sent: 1, reused: 0 },
      { sent: 0, reused: 1 },
    ]);
    answer = () => {
      throw new CboError("ERR_CF_UNAVAILABLE", "Cloudflare API unreachable", { details: { status: 503 } });
    };
    await expect(interactive(undefined, () => client.getScriptSettings("web"))).rejects.toMatchObject({ code: "ERR_CF_UNAVAILABLE" });
    answer = () => ({ logpush: false });
    expect(await interactive(undefined, () => client.getScriptSettings("web"))).toEqual({ logpush: false });
    expect(fake.calls).toEqual(["settings", "settings", "settings"]);
  });

  it("reads the deployment anew for a plan or diff, and drops everything kept when it changed by other means", async () => {
    const fake = fakeClient();
    let live = "v1";
    const client = createReadReuse().wrap({
      ...fake.client,
      listDeployments: (script: string) => fake.answer(`listDeployments ${script}`, () => [{ id: live }]),
      getScriptSettings: (script: string) => fake.answer(`settings ${script}`, () => ({ for: live })),
    } as CloudflareClient);
    const plan = async () => {
      const t = tally();
      const value = await interactive(
        undefined,
        async () => ({ deployment: await client.listDeployments("api"), settings: await client.getScriptSettings("api") }),
        t,
        { revalidate: true },
      );
      return { value, t };
    };
    await plan();
    const same = await plan();
    expect(same.t).toEqual({ sent: 1, reused: 1 });
    // A status (no revalidate) reuses the deployment read.
    await interactive(undefined, () => client.listDeployments("api"));
    expect(fake.calls).toEqual(["listDeployments api", "settings api", "listDeployments api"]);
    live = "v2"; // wrangler deploy, not through this client
    const changed = await plan();
    expect(changed.value).toEqual({ deployment: [{ id: "v2" }], settings: { for: "v2" } });
    expect(changed.t).toEqual({ sent: 2, reused: 0 });
  });

  it("treats a SELECT on D1 as a read and any other statement as a write", async () => {
    const fake = fakeClient();
    const client = createReadReuse().wrap(fake.client);
    const select = { sql: "SELECT name FROM d1_migrations;" };
    await interactive(undefined, () => client.queryD1("db", select));
    await interactive(undefined, () => client.queryD1("db", select));
    expect(fake.calls).toEqual(["queryD1 SELECT name FROM d1_migrations;"]);
    await interactive(undefined, () => client.queryD1("db", { sql: "DELETE FROM d1_migrations" }));
    await interactive(undefined, () => client.queryD1("db", select));
    expect(fake.calls).toHaveLength(3);
    // Two statements are not "a SELECT", whatever the first one is.
    await interactive(undefined, () => client.queryD1("db", { sql: "SELECT 1; DELETE FROM t" }));
    await interactive(undefined, () => client.queryD1("db", select));
    expect(fake.calls).toHaveLength(5);
  });

  it("shares one read in flight between people, cancelled only when the last of them leaves", async () => {
    const fake = fakeClient();
    const client = createReadReuse().wrap(fake.client);
    fake.holdAnswers(true);
    const a = new AbortController();
    const b = new AbortController();
    const ta = tally();
    const tb = tally();
    const first = interactive(a.signal, () => client.listDeployments("api"), ta);
    const second = interactive(b.signal, () => client.listDeployments("api"), tb);
    await new Promise((r) => setTimeout(r, 10));
    expect(fake.calls).toEqual(["listDeployments api"]);
    a.abort(new Error("first client went away"));
    await expect(first).rejects.toMatchObject({ code: "ERR_IO" });
    expect(fake.held[0]!.signal?.aborted).toBe(false);
    fake.release();
    expect(await second).toEqual([{ id: "v1", versions: [] }]);
    expect(tb).toEqual({ sent: 0, reused: 1 });

    // Both go: the shared read itself is cancelled (it would leave the budget queue).
    fake.holdAnswers(true);
    const c = new AbortController();
    const d = new AbortController();
    const third = interactive(c.signal, () => client.listDeployments("web"));
    const fourth = interactive(d.signal, () => client.listDeployments("web"));
    await new Promise((r) => setTimeout(r, 10));
    const shared = fake.held.at(-1)!;
    c.abort(new Error("gone"));
    expect(shared.signal?.aborted).toBe(false);
    d.abort(new Error("gone too"));
    expect(shared.signal?.aborted).toBe(true);
    await expect(third).rejects.toMatchObject({ code: "ERR_IO" });
    await expect(fourth).rejects.toMatchObject({ code: "ERR_IO" });
  });

  it("a person gone before the read starts cancels it with no unhandled rejection (it took the daemon process down)", async () => {
    const fake = fakeClient();
    const client = createReadReuse().wrap(fake.client);
    fake.holdAnswers(true);
    const unhandled: unknown[] = [];
    const note = (reason: unknown) => void unhandled.push(reason);
    process.on("unhandledRejection", note);
    try {
      // As @hono/node-server aborts a request whose connection broke: with a string reason.
      const gone = new AbortController();
      gone.abort("Error: aborted");
      await expect(interactive(gone.signal, () => client.listDeployments("api"))).rejects.toMatchObject({ code: "ERR_IO" });
      expect(fake.held[0]!.signal?.aborted).toBe(true);
      await new Promise((r) => setTimeout(r, 20));
      expect(unhandled).toEqual([]);
    } finally {
      process.off("unhandledRejection", note);
    }
  });
});
