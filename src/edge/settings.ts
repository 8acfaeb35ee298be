// The agent's bindings, read once per isolate. Each binding is checked on its own, so one bad or
// missing binding turns off only the features that need it; the reason lands in `problems`
// (shown by the health route) and never includes a binding's value, some of which are keys.
import { AGENT_BINDINGS, NameSchema, SecretVersionsSchema } from "../kit/protocol/index.ts";
import { base64urlToBytes, importEd25519PublicKey, importHmacKey } from "../kit/signing/index.ts";
import type { CryptoKey } from "../kit/signing/index.ts";
import type { AgentEnv, ConfigKv } from "./types.ts";

export type AgentSettings = {
  worker: string | undefined;
  target: string | undefined;
  versionId: string | null;
  orchestratorUrl: string | undefined;
  publicKey: CryptoKey | undefined;
  /** Raw current key: the relay protocol derives its sealing key from the bytes. */
  workerKey: Uint8Array | undefined;
  /** Current key first, then the previous one during a rotation. */
  hmacKeys: CryptoKey[];
  secretVersions: Record<string, number>;
  kv: ConfigKv | undefined;
  problems: string[];
};

const B = AGENT_BINDINGS;

export async function readSettings(env: AgentEnv): Promise<AgentSettings> {
  const problems: string[] = [];
  const name = (binding: string, value: unknown) => {
    if (value === undefined) return (problems.push(`${binding} is not bound`), undefined);
    const parsed = NameSchema.safeParse(value);
    if (!parsed.success) return (problems.push(`${binding} is not a valid name`), undefined);
    return parsed.data;
  };
  const worker = name(B.worker, env[B.worker]);
  const target = name(B.target, env[B.target]);

  let orchestratorUrl: string | undefined;
  const url = env[B.orchestratorUrl];
  if (url === undefined) problems.push(`${B.orchestratorUrl} is not bound: no heartbeats or relay secrets`);
  else if (!isHttpUrl(url)) problems.push(`${B.orchestratorUrl} is not an http(s) URL`);
  else orchestratorUrl = url.replace(/\/+$/, "");

  let publicKey: CryptoKey | undefined;
  const publicKeyText = env[B.publicKey];
  if (publicKeyText === undefined) problems.push(`${B.publicKey} is not bound: config is off`);
  else
    publicKey = await importEd25519PublicKey(publicKeyText).catch(
      () => (problems.push(`${B.publicKey} is not an Ed25519 public key`), undefined),
    );

  const hmacKeys: CryptoKey[] = [];
  let workerKey: Uint8Array | undefined;
  for (const binding of [B.workerKey, B.previousWorkerKey] as const) {
    const text = env[binding];
    if (text === undefined) {
      if (binding === B.workerKey) problems.push(`${binding} is not bound: no pokes, heartbeats or relay secrets`);
      continue;
    }
    try {
      const raw = base64urlToBytes(text);
      hmacKeys.push(await importHmacKey(raw));
      if (binding === B.workerKey) workerKey = raw;
    } catch {
      problems.push(`${binding} is not a base64url key of 32 bytes or more`);
    }
  }

  let secretVersions: Record<string, number> = {};
  const pins = env[B.secretVersions];
  if (pins !== undefined) {
    const parsed = SecretVersionsSchema.safeParse(typeof pins === "string" ? safeJson(pins) : pins);
    if (parsed.success) secretVersions = parsed.data;
    else problems.push(`${B.secretVersions} is not a {name: version} object`);
  }

  const kv = env[B.config];
  if (kv === undefined) problems.push(`${B.config} (KV) is not bound: config is off`);

  const id: unknown = env[B.version]?.id;
  const versionId = typeof id === "string" && id.length > 0 && id.length <= 100 ? id : null;
  if (versionId === null) problems.push(`${B.version} (version metadata) is not bound`);

  return { worker, target, versionId, orchestratorUrl, publicKey, workerKey, hmacKeys, secretVersions, kv, problems };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isHttpUrl(text: string): boolean {
  try {
    const u = new URL(text);
    return u.protocol === "http:" || u.protocol === "https:";
  } catch {
    return false;
  }
}
