// Workers run the same signing code as the orchestrator: src/kit/signing is bundled with esbuild
// into a Worker, loaded into real workerd through Miniflare, and messages signed on one side
// must verify on the other (HMAC both ways, Ed25519 both ways, replay and tamper refused inside
// workerd too). No test doubles: both sides are the real runtimes.
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { Miniflare, NoOpLog } from "miniflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  bytesToBase64url,
  bytesToHex,
  base64urlToBytes,
  ed25519Sign,
  ed25519Verify,
  exportEd25519PublicJwk,
  generateEd25519KeyPair,
  generateHmacKey,
  importEd25519PublicJwk,
  signPayload,
  verifySignature,
} from "../src/kit/signing/index.ts";

// The Worker: a thin JSON RPC over the bundled module. Its nonce cache lives at module scope, as
// an edge agent's would.
const WORKER = `
import * as s from "./index.ts";
let cache;
export default {
  async fetch(request) {
    const op = new URL(request.url).pathname.slice(1);
    const a = await request.json();
    const keys = (a.keysHex ?? []).map((h) => s.hexToBytes(h));
    const now = () => a.nowMs;
    let out;
    if (op === "sign") {
      out = { header: await s.signPayload(a.body, keys, { timestamp: a.timestamp }) };
    } else if (op === "verify") {
      cache ??= s.createNonceCache({ now: () => a.nowMs });
      out = await s.verifySignature(a.header, a.body, keys, { now, nonceCache: a.replay ? cache : undefined });
    } else if (op === "ed25519-sign") {
      const pair = await s.generateEd25519KeyPair();
      const sig = await s.ed25519Sign(pair.privateKey, a.data);
      out = { jwk: await s.exportEd25519PublicJwk(pair.publicKey), signature: s.bytesToBase64url(sig) };
    } else if (op === "ed25519-verify") {
      const key = await s.importEd25519PublicJwk(a.jwk);
      out = { ok: await s.ed25519Verify(key, a.data, s.base64urlToBytes(a.signature)) };
    } else {
      return new Response("unknown op", { status: 404 });
    }
    return Response.json({ ...out, runtime: typeof navigator === "object" ? navigator.userAgent : "?" });
  },
};`;

let mf: Miniflare;
let url: URL;

async function call<T = Record<string, unknown>>(op: string, args: Record<string, unknown>): Promise<T> {
  const res = await mf.dispatchFetch(new URL(`/${op}`, url), { method: "POST", body: JSON.stringify(args) });
  expect(res.status).toBe(200);
  return (await res.json()) as T;
}

beforeAll(async () => {
  const out = await build({
    stdin: { contents: WORKER, resolveDir: fileURLToPath(new URL("../src/kit/signing/", import.meta.url)), loader: "js" },
    bundle: true,
    format: "esm",
    platform: "neutral",
    write: false,
    logLevel: "silent",
  });
  const code = out.outputFiles[0]!.text;
  mf = new Miniflare({
    host: "127.0.0.1",
    port: 0,
    log: new NoOpLog(),
    telemetry: { enabled: false },
    enableDevRegistry: false,
    cf: { colo: "LCL", country: "XX" }, // without one Miniflare fetches cf.json from the internet
    workers: [
      {
        config: {
          name: "signing",
          compatibilityDate: "2025-09-01",
          manifest: { mainModule: "w.js", modules: { "w.js": { type: "esm", contents: code } } },
        },
      },
    ],
  });
  url = await mf.ready;
});

afterAll(async () => {
  await mf?.dispose();
});

const T = 1_700_000_000;
const BODY = JSON.stringify({ heartbeat: { worker: "api", region: "eu" }, note: "héllo ☃" });

describe("signing inside workerd", () => {
  it("really runs in workerd", async () => {
    const r = await call<{ runtime: string }>("verify", { header: "", body: "", keysHex: [bytesToHex(generateHmacKey())], nowMs: 0 });
    expect(r.runtime).toBe("Cloudflare-Workers");
  });

  it("a header signed in Node verifies in workerd, and tampering or a wrong key fails there", async () => {
    const key = generateHmacKey();
    const header = await signPayload(BODY, key, { timestamp: T });
    const verify = (args: Record<string, unknown>) =>
      call("verify", { header, body: BODY, keysHex: [bytesToHex(key)], nowMs: T * 1000, ...args });
    expect(await verify({})).toMatchObject({ ok: true, timestamp: T, keyIndex: 0 });
    expect(await verify({ body: BODY + " " })).toMatchObject({ ok: false, reason: "no_matching_signature" });
    expect(await verify({ keysHex: [bytesToHex(generateHmacKey())] })).toMatchObject({ ok: false, reason: "no_matching_signature" });
    expect(await verify({ nowMs: (T + 301) * 1000 })).toMatchObject({ ok: false, reason: "timestamp_out_of_tolerance" });
    expect(await verify({ header: "t=abc,v1=zz" })).toMatchObject({ ok: false, reason: "malformed_header" });
    // Rotation: workerd holding [new, old] accepts the old key's signature.
    expect(await verify({ keysHex: [bytesToHex(generateHmacKey()), bytesToHex(key)] })).toMatchObject({ ok: true, keyIndex: 1 });
  });

  it("a header signed in workerd verifies in Node, byte for byte the same as Node's own", async () => {
    const [oldK, newK] = [generateHmacKey(), generateHmacKey()];
    const { header } = await call<{ header: string }>("sign", { body: BODY, keysHex: [bytesToHex(oldK), bytesToHex(newK)], timestamp: T });
    expect(header).toBe(await signPayload(BODY, [oldK, newK], { timestamp: T }));
    expect(await verifySignature(header, BODY, [newK], { now: () => T * 1000 })).toMatchObject({ ok: true });
    expect(await verifySignature(header, BODY.slice(1), [newK], { now: () => T * 1000 })).toMatchObject({ ok: false });
  });

  it("workerd refuses a replay inside the window with its own nonce cache", async () => {
    const key = generateHmacKey();
    const header = await signPayload(BODY, key, { timestamp: T });
    const args = { header, body: BODY, keysHex: [bytesToHex(key)], nowMs: T * 1000 + 5_000, replay: true };
    expect(await call("verify", args)).toMatchObject({ ok: true });
    expect(await call("verify", args)).toMatchObject({ ok: false, reason: "replayed" });
  });

  it("Ed25519: signed in workerd verifies in Node and the reverse", async () => {
    const fromWorker = await call<{ jwk: unknown; signature: string }>("ed25519-sign", { data: "checkpoint 7" });
    const workerKey = await importEd25519PublicJwk(fromWorker.jwk);
    expect(await ed25519Verify(workerKey, "checkpoint 7", base64urlToBytes(fromWorker.signature))).toBe(true);
    expect(await ed25519Verify(workerKey, "checkpoint 8", base64urlToBytes(fromWorker.signature))).toBe(false);

    const pair = await generateEd25519KeyPair();
    const jwk = await exportEd25519PublicJwk(pair.publicKey);
    const signature = bytesToBase64url(await ed25519Sign(pair.privateKey, "bundle v3"));
    expect(await call("ed25519-verify", { jwk, data: "bundle v3", signature })).toMatchObject({ ok: true });
    expect(await call("ed25519-verify", { jwk, data: "bundle v4", signature })).toMatchObject({ ok: false });
  });
});
