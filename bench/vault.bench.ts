// The vault (src/vault), issue 4's figures:
//   vault.secret_read_p99_ms — p99 of vault.get over 10,000 reads spread over 100 secrets, on a real
//     SQLite store, with every read audited the way the daemon wires it (onEvent -> audit append,
//     one durable commit per read); the bare read (no audit) is reported beside it as info.
//   vault.relay_round_trip_p99_ms — the relay endpoint over real HTTP on loopback against a real
//     daemon (startDaemon): sign a request with the per-Worker key (src/kit/relay.ts), POST
//     /v1/relay, verify + policy + audited vault read + seal on the daemon, open the sealed answer.
//     2,000 sequential round trips after 200 warm-up ones, timed from signing to decrypted value.
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createAuditLog, generateEd25519Signer } from "../src/audit/index.ts";
import { startDaemon } from "../src/daemon.ts";
import { createRelayRequest, openRelayResponse, RELAY_PATH } from "../src/kit/relay.ts";
import { createStore } from "../src/store/index.ts";
import { createVault, MasterKey } from "../src/vault/index.ts";
import { atMost, info, median, percentile, round, type Benchmark, type BenchContext, type BenchResult } from "./types.ts";
import { silentLogger } from "../src/telemetry/index.ts";

const SECRETS = 100;
const READS = 10_000;

async function secretReads(ctx: BenchContext): Promise<BenchResult[]> {
  const dir = await mkdtemp(join(tmpdir(), "cbo-bench-vault-"));
  const store = createStore(join(dir, "orchestrator.sqlite"));
  const audit = createAuditLog({ db: store.db, signer: await generateEd25519Signer(), log: silentLogger });
  let audited = true;
  const vault = createVault({
    db: store.db,
    masterKey: new MasterKey(randomBytes(32), "bytes"),
    log: silentLogger,
    onEvent: (e) => {
      if (audited)
        audit.append({ actor: "token:bench", action: e.type, target: "name" in e ? `secret:${e.name}` : "vault", outcome: "ok" });
    },
  });
  try {
    for (let i = 0; i < SECRETS; i++) vault.put(`BENCH_SECRET_${i}`, randomBytes(48).toString("base64url"));
    const sample = () => {
      const ms: number[] = [];
      for (let i = 0; i < 200; i++) vault.get(`BENCH_SECRET_${i % SECRETS}`); // warm-up
      for (let i = 0; i < READS; i++) {
        const name = `BENCH_SECRET_${(i * 37) % SECRETS}`;
        const t = performance.now();
        vault.get(name);
        ms.push(performance.now() - t);
      }
      return ms;
    };
    const withAudit = sample();
    audited = false;
    const bare = sample();
    ctx.log(
      `reads: audited p50 ${median(withAudit).toFixed(3)} ms p99 ${percentile(withAudit, 99).toFixed(3)} ms; bare p99 ${percentile(bare, 99).toFixed(3)} ms`,
    );
    const stats = (ms: number[]) => ({ reads: READS, secrets: SECRETS, p50_ms: round(median(ms)), max_ms: round(Math.max(...ms)) });
    return [
      atMost("vault.secret_read_p99_ms", percentile(withAudit, 99), "ms", 5, { ...stats(withAudit), audited: true }),
      info("vault.secret_read_bare_p99_ms", percentile(bare, 99), "ms", { ...stats(bare), audited: false }),
    ];
  } finally {
    await audit.stop({ checkpoint: false });
    store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const RELAY_SPEC = `version: 1
targets:
  - { name: eu, api: local }
workers:
  - { name: api, main: api.js, secrets: [DB_URL] }
`;
// The edge is never called: no release runs, the Worker's key is made directly.
const NO_EDGE = {
  apiUrl: "http://127.0.0.1:9",
  token: "unused",
  regions: [{ name: "eu", accountId: "e".repeat(32), accountName: "eu", subdomain: "eu", port: 9, publicUrl: "http://127.0.0.1:9" }],
};

async function relayRoundTrip(ctx: BenchContext): Promise<BenchResult[]> {
  const dir = await mkdtemp(join(tmpdir(), "cbo-bench-relay-"));
  writeFileSync(join(dir, "orchestrator.yaml"), RELAY_SPEC);
  writeFileSync(join(dir, "api.js"), "export default { fetch: () => new Response('ok') };\n");
  const d = await startDaemon({
    dataDir: join(dir, "data"),
    configFile: join(dir, "orchestrator.yaml"),
    edge: NO_EDGE,
    env: { CBO_MASTER_KEY: randomBytes(32).toString("base64") },
    port: 0,
    monitorIntervalMs: 3_600_000,
    log: () => {},
  });
  try {
    d.security.vault.put("DB_URL", `postgres://bench:${randomBytes(16).toString("hex")}@db/app`, { mode: "relay", by: "bench" });
    const { key } = d.security.workerKeys.current({ tenant: "default", worker: "api", target: "eu" }, "bench");
    const who = { worker: "api", target: "eu", secret: "DB_URL" };
    const url = new URL(RELAY_PATH, d.url);
    const once = async () => {
      const r = await createRelayRequest(who, key);
      const res = await fetch(url, { method: "POST", headers: r.headers, body: r.body });
      if (!res.ok) throw new Error(`relay answered ${res.status}: ${await res.text()}`);
      await openRelayResponse(await res.json(), who, key);
    };
    for (let i = 0; i < 200; i++) await once();
    const ms: number[] = [];
    for (let i = 0; i < 2_000; i++) {
      const t = performance.now();
      await once();
      ms.push(performance.now() - t);
    }
    ctx.log(`relay: p50 ${median(ms).toFixed(2)} ms, p99 ${percentile(ms, 99).toFixed(2)} ms`);
    return [
      atMost("vault.relay_round_trip_p99_ms", percentile(ms, 99), "ms", 50, {
        requests: ms.length,
        p50_ms: round(median(ms)),
        max_ms: round(Math.max(...ms)),
        audited: true,
        transport: "HTTP/1.1 keep-alive on loopback",
      }),
    ];
  } finally {
    await d.close();
    await rm(dir, { recursive: true, force: true });
  }
}

export const benchmarks: Benchmark[] = [
  { name: "vault.secret_read_p99_ms", run: secretReads },
  { name: "vault.relay_round_trip_p99_ms", run: relayRoundTrip },
];
