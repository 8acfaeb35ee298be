// The archive file (v1). One file, read front to back:
//
//   magic      8 bytes   89 43 42 4f 0d 0a 1a 0a  ("\x89CBO\r\n\x1a\n": the PNG trick, so that a
//                        text-mode copy or a 7-bit channel visibly breaks it)
//   length     4 bytes   header length H, big-endian
//   header     H bytes   JSON (HeaderSchema), UTF-8
//   check     32 bytes   SHA-256 of magic ‖ length ‖ header: tells a damaged header from a wrong
//                        key (it is not a MAC; the GCM tag below is what authenticates the header)
//   body                 AES-256-GCM ciphertext of the files, concatenated in header order
//   tag       16 bytes   GCM tag; associated data = magic ‖ length ‖ header
//
// The content key is HKDF-SHA256(archive key, salt, "cbo-backup/v1/content"); the archive key is
// random per archive and stored only wrapped by the master key (MasterKey.wrap: AES-256-GCM under
// the master key's HKDF-derived wrap key). Plaintext SHA-256 is checked after the tag.
import { createHash } from "node:crypto";
import * as z from "zod";
import { KdfSchema } from "../vault/meta.ts";
import { integrity } from "./errors.ts";

export const MAGIC = Buffer.from([0x89, 0x43, 0x42, 0x4f, 0x0d, 0x0a, 0x1a, 0x0a]);
export const FORMAT = "cbo.backup";
export const FORMAT_VERSION = 1;
export const CHECK_BYTES = 32;
export const TAG_BYTES = 16;
export const IV_BYTES = 12;
export const SALT_BYTES = 32;
const MAX_HEADER_BYTES = 64 * 1024;

/** What an archive holds, by file name in the data directory. */
export const DB_FILE = "orchestrator.sqlite";
export const CHECKPOINTS_FILE = "audit-checkpoints.jsonl";
export const ARCHIVE_FILES = [DB_FILE, CHECKPOINTS_FILE] as const;

const B64 = (bytes: number) =>
  z
    .string()
    .regex(/^[A-Za-z0-9+/]+={0,2}$/)
    .refine((s) => Buffer.from(s, "base64").length === bytes, `${bytes} bytes, base64`);

export const HeaderSchema = z.strictObject({
  format: z.literal(FORMAT),
  v: z.literal(FORMAT_VERSION),
  created_at: z.iso.datetime(),
  /** The master key's public fingerprint (MasterKey.id): a wrong key is named before any decryption. */
  master_key_id: z.string().regex(/^[0-9a-f]{16}$/),
  /** The archive key, wrapped by the master key (iv ‖ ciphertext ‖ tag). */
  wrapped_key: z.string().regex(/^[A-Za-z0-9+/]+={0,2}$/),
  salt: B64(SALT_BYTES),
  iv: B64(IV_BYTES),
  files: z
    .array(z.strictObject({ name: z.enum(ARCHIVE_FILES), bytes: z.number().int().min(0) }))
    .min(1)
    .max(ARCHIVE_FILES.length),
  plaintext_sha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** When the vault's master key comes from a passphrase: its scrypt salt and parameters (public,
   *  kept in vault_meta, which is inside the ciphertext), so a restore can derive the key. */
  kdf: KdfSchema.optional(),
});
export type Header = z.infer<typeof HeaderSchema>;

/** magic ‖ length ‖ header ‖ check: everything before the ciphertext. `aad` is what GCM authenticates. */
export function encodePrefix(header: Header): { prefix: Buffer; aad: Buffer } {
  const json = Buffer.from(JSON.stringify(HeaderSchema.parse(header)), "utf8");
  const length = Buffer.alloc(4);
  length.writeUInt32BE(json.length);
  const aad = Buffer.concat([MAGIC, length, json]);
  return { prefix: Buffer.concat([aad, createHash("sha256").update(aad).digest()]), aad };
}

export const PLAIN_LEAD = MAGIC.length + 4;

/** From the first bytes of a file: the header length, or an integrity error when it is no archive. */
export function headerLength(lead: Buffer, fileBytes: number): number {
  if (lead.length < PLAIN_LEAD || !lead.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw integrity("is not a cbo backup archive, or its first bytes are damaged (wrong magic)");
  }
  const h = lead.readUInt32BE(MAGIC.length);
  if (h === 0 || h > MAX_HEADER_BYTES || PLAIN_LEAD + h + CHECK_BYTES + TAG_BYTES > fileBytes) {
    throw integrity("has a damaged header (its length field is impossible), or the file was cut short");
  }
  return h;
}

/** Parses and checks the header bytes read after `headerLength`; `rest` = the 32 check bytes. */
export function decodeHeader(aad: Buffer, check: Buffer): Header {
  if (!createHash("sha256").update(aad).digest().equals(check)) throw integrity("has a damaged header (its checksum does not match)");
  let json: unknown;
  try {
    json = JSON.parse(aad.subarray(PLAIN_LEAD).toString("utf8"));
  } catch {
    throw integrity("has a header that is not JSON");
  }
  const v = (json as { v?: unknown } | null)?.v;
  if (typeof v === "number" && v !== FORMAT_VERSION) {
    throw integrity(`uses archive format v${v}; this cbo reads v${FORMAT_VERSION}`, { v });
  }
  const r = HeaderSchema.safeParse(json);
  if (!r.success) {
    const fields = [...new Set(r.error.issues.map((i) => i.path.join(".") || "(header)"))];
    throw integrity(`has a header that does not match format v${FORMAT_VERSION} (${fields.join(", ")})`, { fields });
  }
  return r.data;
}

export const bodyBytes = (h: Header) => h.files.reduce((n, f) => n + f.bytes, 0);
