// What `cbo audit verify` checks the database against: checkpoint files and public keys.
//
// A checkpoint file is JSON lines. Checkpoint lines (the audit export's format: a checkpoint plus
// "kind":"checkpoint") are used; header and entry lines (a full export passed as --checkpoint) are
// skipped; a line that cannot be read is kept as an unreadable checkpoint, which the verifier
// reports: a damaged checkpoint file is evidence, not noise (but for a last line cut off before its
// newline, an interrupted write, reported as such). A line {"kind":"key", "key_id",
// "public_key"} names a public key. Public keys come as base64url (as GET /v1/keys/orchestrator
// answers), base64 or hex of the 32 raw bytes, or as that route's JSON {keyId, publicKey, jwk}.
import { closeSync, constants, existsSync, fstatSync, openSync, readFileSync } from "node:fs";
import * as z from "zod";
import { AuditCheckpointSchema, keyIdFor, type VerifyCheckpoint } from "../../audit/index.ts";
import { CboError } from "../../kit/errors.ts";
import { ed25519KeyId, importEd25519PublicKey } from "../../kit/signing/ed25519.ts";

export type PublicKey = { raw: Uint8Array; keyId?: string; source: string };
export type CheckpointFile = {
  file: string;
  checkpoints: VerifyCheckpoint[];
  keys: PublicKey[];
  unreadableLines: number[];
  /** The last line, unreadable and without its newline: a write interrupted, not evidence (see below). */
  cutOffLine?: number;
};

const CheckpointLine = AuditCheckpointSchema.extend({ kind: z.literal("checkpoint") });
const KeyLine = z.looseObject({ kind: z.literal("key"), key_id: z.string().optional(), public_key: z.string() });
const KeyDocument = z.looseObject({
  keyId: z.string().optional(),
  publicKey: z.string().optional(),
  jwk: z.looseObject({ x: z.string() }).optional(),
});

export function decodePublicKey(text: string, source: string, keyId?: string): PublicKey {
  const t = text.trim();
  const raw = /^[0-9a-fA-F]{64}$/.test(t)
    ? Buffer.from(t, "hex")
    : /^[A-Za-z0-9+/_-]{43}=?$/.test(t)
      ? Buffer.from(t.replace(/-/g, "+").replace(/_/g, "/"), "base64")
      : undefined;
  if (raw?.length !== 32) {
    throw new CboError(
      "ERR_USAGE",
      `The public key from ${source} is not a raw Ed25519 public key (32 bytes as base64url, base64 or hex).`,
      {
        hint: "use the publicKey of GET /v1/keys/orchestrator",
      },
    );
  }
  return { raw: new Uint8Array(raw), ...(keyId ? { keyId } : {}), source };
}

/** {keyId, publicKey, jwk} as GET /v1/keys/orchestrator answers it. */
export function keyFromDocument(json: unknown, source: string): PublicKey {
  const doc = KeyDocument.safeParse(json);
  const text = doc.success ? (doc.data.publicKey ?? doc.data.jwk?.x) : undefined;
  if (!doc.success || text === undefined) {
    throw new CboError("ERR_VALIDATION", `${source} is not a public key document ({keyId, publicKey, jwk}).`);
  }
  return decodePublicKey(text, source, doc.data.keyId);
}

/** What to do about a public key file that is cut off or damaged (a kill -9 or a full disk as it was written). */
const KEY_FILE_HINT =
  "the daemon writes <data>/orchestrator-key.json again from its vault at every start; or pass the key with --public-key (the publicKey of GET /v1/keys/orchestrator) or --key-url";

export function readKeyFile(file: string): PublicKey {
  let json: unknown;
  try {
    json = JSON.parse(readRegularFile(file, "public key document"));
  } catch (e) {
    if (e instanceof CboError) throw e;
    throw new CboError("ERR_VALIDATION", `Cannot read ${file} as a public key document.`, { hint: KEY_FILE_HINT, cause: e });
  }
  try {
    return keyFromDocument(json, file);
  } catch (e) {
    if (e instanceof CboError && e.hint === undefined)
      throw new CboError(e.code, e.message, { ...(e.details ? { details: e.details } : {}), hint: KEY_FILE_HINT });
    throw e;
  }
}

export async function fetchKey(url: string): Promise<PublicKey> {
  let res: Response;
  try {
    res = await fetch(url, { headers: { accept: "application/json" }, signal: AbortSignal.timeout(10_000) });
  } catch (e) {
    throw new CboError("ERR_IO", `Cannot fetch the public key from ${new URL(url).origin}.`, { cause: e });
  }
  if (!res.ok) throw new CboError("ERR_IO", `${new URL(url).origin} answered HTTP ${res.status} for the public key.`);
  let json: unknown;
  try {
    json = await res.json();
  } catch {
    json = undefined;
  }
  return keyFromDocument(json, `--key-url ${new URL(url).origin}`);
}

export function readCheckpointFile(file: string): CheckpointFile {
  if (!existsSync(file)) throw new CboError("ERR_NOT_FOUND", `The checkpoint file ${file} does not exist.`);
  const text = readRegularFile(file, "checkpoint file");
  const out: CheckpointFile = { file, checkpoints: [], keys: [], unreadableLines: [] };
  const lines = text.split("\n");
  lines.forEach((line, i) => {
    if (line.trim() === "") return;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      json = undefined;
    }
    const kind = typeof json === "object" && json !== null ? (json as { kind?: unknown }).kind : undefined;
    if (kind === "header" || kind === "entry") return;
    const key = KeyLine.safeParse(json);
    if (key.success) return void out.keys.push(decodePublicKey(key.data.public_key, `${file} line ${i + 1}`, key.data.key_id));
    const cp = CheckpointLine.safeParse(json);
    if (cp.success) {
      const { kind: _kind, ...checkpoint } = cp.data;
      return void out.checkpoints.push(checkpoint);
    }
    // The last line without its newline: the daemon was killed (or the disk filled) while it
    // appended it, and drops it at its next start (src/security/checkpoint-export.ts). Not taken
    // as a forged checkpoint, which failed the whole check as "bad checkpoint signature" until the
    // daemon ran again; told apart, and the rest verified. Any other unreadable line stays evidence.
    if (i === lines.length - 1) return void (out.cutOffLine = i + 1);
    const size = /"tree_size":(\d+)/.exec(line)?.[1];
    out.unreadableLines.push(i + 1);
    out.checkpoints.push({ unreadable: true, line: i + 1, ...(size ? { tree_size: Number(size) } : {}) });
  });
  return out;
}

/** The verifier's key argument: the one key as is, or several by every id a checkpoint may carry. */
export async function verifierKeys(keys: PublicKey[]): Promise<Uint8Array | Record<string, Uint8Array>> {
  if (keys.length === 1) return keys[0]!.raw;
  const byId: Record<string, Uint8Array> = {};
  for (const k of keys) {
    const thumbprint = await ed25519KeyId(await importEd25519PublicKey(Buffer.from(k.raw).toString("base64url")));
    for (const id of [k.keyId, keyIdFor(k.raw), thumbprint]) if (id) byId[id] = k.raw;
  }
  return byId;
}

/**
 * A file named on the command line, read whole, if it is a regular file: a device (/dev/zero never
 * ends: read whole, it ran the process out of memory), a FIFO (its open waits for a writer: opened
 * non-blocking here) or a directory is refused by name instead.
 */
function readRegularFile(file: string, what: string): string {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (e) {
    throw new CboError("ERR_IO", `Cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? "error"}).`, { cause: e });
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile())
      throw new CboError(
        "ERR_VALIDATION",
        `${file} is ${st.isDirectory() ? "a directory" : "not a regular file"}; give the ${what} itself.`,
      );
    return readFileSync(fd, "utf8");
  } catch (e) {
    if (e instanceof CboError) throw e;
    throw new CboError("ERR_IO", `Cannot read ${file}.`, { cause: e });
  } finally {
    closeSync(fd);
  }
}
