// The fixed names both sides of the edge protocol agree on: the bindings the orchestrator gives
// each Worker, the KV keys it writes signed config under, and the agent's HTTP paths. One list,
// so that the deploy engine and the agent cannot drift apart on a spelling.
import * as z from "zod";

/** Binding names on every Worker that runs the edge agent. */
export const AGENT_BINDINGS = {
  /** text: the Worker's name, as in orchestrator.yaml. */
  worker: "CBO_WORKER",
  /** text: the target (region, account) this copy runs in. */
  target: "CBO_TARGET",
  /** text: base URL of the orchestrator as Workers reach it (through the tunnel). */
  orchestratorUrl: "CBO_ORCHESTRATOR_URL",
  /** text: the orchestrator's Ed25519 public key, base64url of the raw 32 bytes. */
  publicKey: "CBO_PUBLIC_KEY",
  /** secret text: base64url of the 32-byte per-Worker HMAC key. */
  workerKey: "CBO_WORKER_KEY",
  /** secret text, optional: the previous per-Worker key, accepted on pokes during a rotation. */
  previousWorkerKey: "CBO_WORKER_KEY_PREVIOUS",
  /** json: {secretName: version} pinned by the release, for relay secrets. */
  secretVersions: "CBO_SECRET_VERSIONS",
  /** version_metadata: the Worker's own version {id, tag, timestamp}. */
  version: "CBO_VERSION",
  /** KV namespace holding the signed config bundle and its last-known-good copy. */
  config: "CBO_CONFIG",
} as const;

/** KV key of the Worker's current signed config bundle. */
export const configKvKey = (worker: string) => `config/${worker}`;
/** KV key of the last bundle the agent verified and applied (its fallback after a bad write). */
export const lastKnownGoodKvKey = (worker: string) => `config/${worker}/lkg`;

/** Where a Worker mounts the agent's own routes. */
export const AGENT_MOUNT_PATH = "/orchestrator";
export const AGENT_HEALTH_PATH = `${AGENT_MOUNT_PATH}/health`;
export const AGENT_POKE_PATH = `${AGENT_MOUNT_PATH}/poke`;
/** On the orchestrator, relative to CBO_ORCHESTRATOR_URL. */
export const HEARTBEAT_PATH = "/v1/agent/heartbeat";
// Pokes and heartbeats carry their HMAC `t=,v1=` signature in the same header as relay requests.
export { RELAY_PATH, SIGNATURE_HEADER } from "../relay.ts";

/** Worker and target names: Cloudflare's script-name rule, as orchestrator.yaml enforces it. */
export const NAME_PATTERN = /^[a-z][a-z0-9-]{0,62}$/;
export const NameSchema = z.string().regex(NAME_PATTERN);

/** The version_metadata binding's value (only `id` is relied upon). */
export const VersionMetadataSchema = z.object({ id: z.string().min(1).max(100) }).loose();

/** Pins of relay secrets: name -> version. */
export const SecretVersionsSchema = z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_.-]{0,127}$/), z.number().int().min(1));
