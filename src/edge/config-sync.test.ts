// The config state machine against an in-memory KV: a stand-in for the KV binding (the real one
// runs in test/edge-agent.test.ts); here it lets a test make reads fail or lag, which workerd's
// KV does not do on demand.
import { describe, expect, it } from "vitest";
import { configKvKey, lastKnownGoodKvKey, signConfigBundle } from "../kit/protocol/index.ts";
import { generateEd25519KeyPair } from "../kit/signing/index.ts";
import { createConfigSync } from "./config-sync.ts";
import { createRejectionLog } from "./rejections.ts";

const pair = await generateEd25519KeyPair();
let issued = 0;
const bundle = async (version: number, config: Record<string, unknown> = { v: version }) =>
  JSON.stringify(
    await signConfigBundle(
      { worker: "api", target: "eu", version, config, issuedAt: new Date(1_800_000_000_000 + ++issued * 1000).toISOString() },
      pair.privateKey,
    ),
  );

function setup() {
  const store = new Map<string, string>();
  const kv = {
    failGets: false,
    failPuts: false,
    /** Values a lagging location still answers with, before the real one. */
    stale: [] as string[],
    reads: 0,
    async get(key: string) {
      kv.reads++;
      if (kv.failGets) throw new Error("KV GET failed: 503");
      if (key === configKvKey("api") && kv.stale.length > 0) return kv.stale.shift()!;
      return store.get(key) ?? null;
    },
    async put(key: string, value: string) {
      if (kv.failPuts) throw new Error("KV PUT failed: 429");
      store.set(key, value);
    },
  };
  const rejections = createRejectionLog();
  const sync = createConfigSync({
    kv,
    worker: "api",
    target: "eu",
    publicKey: pair.publicKey,
    parseConfig: { safeParse: (x: unknown) => ({ success: true as const, data: x as Record<string, unknown> }) },
    rejections,
    now: () => 1_800_000_000_000,
    retryDelaysMs: [1, 1, 1],
    sleep: async () => {},
  });
  return { store, kv, sync, rejections };
}

describe("config sync", () => {
  it("keeps serving the applied bundle when KV fails, and reports it until a read works", async () => {
    const { store, kv, sync } = setup();
    store.set(configKvKey("api"), await bundle(1));
    await sync.load();
    expect(sync.applied()?.payload.version).toBe(1);
    kv.failGets = true;
    await sync.refresh();
    expect(sync.applied()?.payload.version).toBe(1);
    expect(sync.lastError()).toBe(`reading ${configKvKey("api")}: KV GET failed: 503`);
    kv.failGets = false;
    await sync.refresh();
    expect(sync.lastError()).toBeUndefined();
  });

  it("applies a new bundle even when its last-known-good copy cannot be written, and writes it on the next read", async () => {
    const { store, kv, sync } = setup();
    kv.failPuts = true;
    const v1 = await bundle(1);
    store.set(configKvKey("api"), v1);
    await sync.load();
    expect(sync.applied()?.payload.version).toBe(1);
    expect(sync.lastError()).toMatch(/^writing config\/api\/lkg: KV PUT failed/);
    expect(store.has(lastKnownGoodKvKey("api"))).toBe(false);
    kv.failPuts = false;
    await sync.refresh();
    expect(store.get(lastKnownGoodKvKey("api"))).toBe(v1);
    expect(sync.lastError()).toBeUndefined();
  });

  it("after a poke, re-reads past stale answers until the poked version shows up, and stops at a refused one", async () => {
    const { store, kv, sync, rejections } = setup();
    const v1 = await bundle(1);
    store.set(configKvKey("api"), v1);
    await sync.load();
    store.set(configKvKey("api"), await bundle(2));
    kv.stale = [v1, v1];
    const before = kv.reads;
    await sync.refreshUntil(2);
    expect(sync.applied()?.payload.version).toBe(2);
    expect(kv.reads - before).toBe(3);

    store.set(configKvKey("api"), "garbage");
    const again = kv.reads;
    await sync.refreshUntil(3);
    expect(kv.reads - again).toBe(1);
    expect(rejections.recent().map((r) => r.reason)).toEqual(["malformed"]);
  });

  it("gives up after its retries when the poked version never appears", async () => {
    const { store, kv, sync } = setup();
    store.set(configKvKey("api"), await bundle(1));
    await sync.load();
    const before = kv.reads;
    await sync.refreshUntil(9);
    expect(kv.reads - before).toBe(4);
    expect(sync.applied()?.payload.version).toBe(1);
  });

  it("reports the same refused value once, not on every poll", async () => {
    const { store, sync, rejections } = setup();
    store.set(configKvKey("api"), "not a bundle");
    await sync.load();
    await sync.refresh();
    await sync.refresh();
    expect(rejections.total()).toBe(1);
    expect(sync.applied()).toBeUndefined();
  });
});
