// Secret delivery inside releases. A secret change never goes through Cloudflare's secrets
// endpoint (which makes a version of its own and is refused with 10215 while the newest version is
// not the deployed one: workers-sdk #10585): binding secrets ride in the version a release uploads,
// next to the code, so they reach traffic through the same canary steps and gates, and a rollback
// to an earlier version brings that version's secrets back with it. Relay secrets stay on the VPS;
// the version carries only which secret versions it was released with (CBO_SECRET_VERSIONS).
//
// Jurisdiction: a secret tagged e.g. `eu` reaches only targets whose `jurisdiction` is one of its
// tags; a target without a jurisdiction holds only untagged secrets. A withheld secret is absent
// from that target's version and refused by the relay there; the plan says so.
import type { UploadBinding } from "../cloudflare/upload.ts";
import type { ResolvedWorker } from "../config/load.ts";
import { CboError } from "../kit/errors.ts";
import { AGENT_BINDINGS } from "../kit/protocol/bindings.ts";
import { bytesToBase64url } from "../kit/signing/index.ts";
import type { SecretPins } from "../store/catalog.ts";
import type { PlannedSecret, SecretPolicy, SecretSource } from "./types.ts";

export function allowedIn(jurisdictions: string[], target: string | undefined): boolean {
  return jurisdictions.length === 0 || (target !== undefined && jurisdictions.includes(target));
}

/** Pure: which secret versions each target of the release gets. Unknown or deleted secrets stop the plan. */
export function planSecrets(
  worker: ResolvedWorker,
  targets: Array<{ name: string; jurisdiction: string | undefined }>,
  policies: Map<string, SecretPolicy | undefined>,
): PlannedSecret[] {
  const missing = worker.secrets.filter((n) => policies.get(n) === undefined);
  if (missing.length > 0) {
    throw new CboError(
      "ERR_VALIDATION",
      `Worker ${worker.name} uses secret(s) ${missing.join(", ")}, which the vault does not hold (or holds deleted).`,
      {
        details: { worker: worker.name, missing },
        hint: `Set each with: cbo secrets set ${missing[0]} --mode binding|relay (the value on stdin).`,
      },
    );
  }
  const out: PlannedSecret[] = [];
  for (const t of targets) {
    for (const name of worker.secrets) {
      const p = policies.get(name)!;
      const ok = allowedIn(p.jurisdictions, t.jurisdiction);
      out.push({
        target: t.name,
        name,
        version: p.version,
        mode: p.mode,
        delivered: ok,
        ...(ok
          ? {}
          : { reason: `tagged ${p.jurisdictions.join(", ")}; ${t.name} is ${t.jurisdiction ? `in ${t.jurisdiction}` : "untagged"}` }),
      });
    }
  }
  return out;
}

/** What a target's version records as shipped (pins), from the plan. */
export function pinsFor(planned: PlannedSecret[] | undefined, target: string, workerKey: number | undefined): SecretPins | null {
  const mine = (planned ?? []).filter((s) => s.target === target && s.delivered);
  if (mine.length === 0 && workerKey === undefined) return null;
  return { secrets: Object.fromEntries(mine.map((s) => [s.name, s.version])), ...(workerKey === undefined ? {} : { workerKey }) };
}

/**
 * The secret and agent bindings of one target's upload: binding secrets with their values (read
 * from the vault now, audited as deliveries), and for a Worker running the edge agent its
 * identity, keys, relay pins and config namespace (AGENT_BINDINGS, shared with src/edge/).
 */
export function secretBindings(
  worker: ResolvedWorker,
  target: string,
  planned: PlannedSecret[] | undefined,
  source: SecretSource | undefined,
  ctx: { by: string; orchestratorUrl: string | undefined; publicKey?: string | undefined; configNamespaceId?: string | undefined },
): { bindings: UploadBinding[]; pins: SecretPins | null } {
  if (worker.secrets.length === 0 && !worker.agent) return { bindings: [], pins: null };
  if (!source)
    throw new CboError(
      "ERR_VALIDATION",
      `Worker ${worker.name} uses secrets or the edge agent, but this orchestrator runs without a vault.`,
    );
  let workerKey: number | undefined;
  const bindings = secretBindingShapes(worker, target, planned, ctx, {
    secret: (s) => source.read(worker.tenant, s.name, s.version, ctx.by),
    workerKey: () => {
      const key = source.workerKey(worker.tenant, worker.name, target, ctx.by);
      workerKey = key.version;
      return bytesToBase64url(key.key);
    },
  });
  return { bindings, pins: pinsFor(planned, target, workerKey) };
}

/**
 * The same bindings, in the same order, with the secret values from `values` (absent: a
 * secret_text binding without its text, which is how `cbo diff` sees the desired version without
 * reading the vault).
 */
export function secretBindingShapes(
  worker: ResolvedWorker,
  target: string,
  planned: PlannedSecret[] | undefined,
  ctx: { orchestratorUrl: string | undefined; publicKey?: string | undefined; configNamespaceId?: string | undefined },
  values?: { secret: (s: PlannedSecret) => string; workerKey: () => string },
): UploadBinding[] {
  const mine = (planned ?? []).filter((s) => s.target === target && s.delivered);
  const secret = (name: string, text: (() => string) | undefined): UploadBinding =>
    text ? { type: "secret_text", name, text: text() } : { type: "secret_text", name };
  const bindings: UploadBinding[] = [];
  for (const s of mine.filter((x) => x.mode === "binding")) bindings.push(secret(s.name, values && (() => values.secret(s))));
  const relay = mine.filter((x) => x.mode === "relay");
  if (worker.agent || relay.length > 0) {
    bindings.push(
      { type: "plain_text", name: AGENT_BINDINGS.worker, text: worker.name },
      { type: "plain_text", name: AGENT_BINDINGS.target, text: target },
      secret(AGENT_BINDINGS.workerKey, values?.workerKey),
      { type: "json", name: AGENT_BINDINGS.secretVersions, json: Object.fromEntries(relay.map((s) => [s.name, s.version])) },
      ...(ctx.orchestratorUrl ? [{ type: "plain_text", name: AGENT_BINDINGS.orchestratorUrl, text: ctx.orchestratorUrl }] : []),
    );
  }
  if (worker.agent) {
    if (ctx.publicKey) bindings.push({ type: "plain_text", name: AGENT_BINDINGS.publicKey, text: ctx.publicKey });
    if (worker.versionMetadata !== AGENT_BINDINGS.version) bindings.push({ type: "version_metadata", name: AGENT_BINDINGS.version });
    if (ctx.configNamespaceId) bindings.push({ type: "kv_namespace", name: AGENT_BINDINGS.config, namespace_id: ctx.configNamespaceId });
  }
  return bindings;
}
