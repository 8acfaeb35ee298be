// vault_meta: the few vault-wide records, each a JSON document validated on read.
import * as z from "zod";
import type { Db } from "../store/db.ts";
import { integrityError, parseRow } from "./integrity.ts";

const B64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/);

/** How a passphrase becomes the master key (scrypt); kept so that old vaults keep opening when defaults rise. */
export const KdfSchema = z.object({
  alg: z.literal("scrypt"),
  N: z
    .number()
    .int()
    .min(2 ** 14),
  r: z.number().int().min(8),
  p: z.number().int().min(1),
  salt: B64,
});
export type Kdf = z.infer<typeof KdfSchema>;

/** Which master key the vault is sealed with now, and which ones it was sealed with before. */
export const KeysSchema = z.object({
  current: z.string().min(1),
  retired: z.array(z.object({ id: z.string().min(1), retired_at: z.string() })),
});
export type Keys = z.infer<typeof KeysSchema>;

/** The key of keyedHash(), random per vault and stored wrapped, so it outlives master-key rotation. */
export const HashKeySchema = z.object({ key_id: z.string().min(1), wrapped: B64 });
export type HashKey = z.infer<typeof HashKeySchema>;

type Meta = { kdf: Kdf; keys: Keys; hash_key: HashKey };
const SCHEMAS: { [K in keyof Meta]: z.ZodType<Meta[K]> } = { kdf: KdfSchema, keys: KeysSchema, hash_key: HashKeySchema };
export type MetaKey = keyof Meta;

export function readMeta<K extends MetaKey>(db: Db, key: K): Meta[K] | undefined {
  const row = db.prepare("SELECT value FROM vault_meta WHERE key = ?").get(key) as { value: unknown } | undefined;
  if (row === undefined) return undefined;
  let doc: unknown;
  try {
    doc = JSON.parse(String(row.value));
  } catch {
    throw integrityError(`vault record vault_meta.${key} is not JSON`);
  }
  return parseRow(SCHEMAS[key], doc, `vault_meta.${key}`);
}

export function writeMeta<K extends MetaKey>(db: Db, key: K, value: Meta[K], at: string): void {
  db.prepare(
    "INSERT INTO vault_meta (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
  ).run(key, JSON.stringify(SCHEMAS[key].parse(value)), at);
}

/** Writes only if absent (two processes initialising at once keep the first); returns what is stored. */
export function ensureMeta<K extends MetaKey>(db: Db, key: K, value: Meta[K], at: string): Meta[K] {
  db.prepare("INSERT OR IGNORE INTO vault_meta (key, value, updated_at) VALUES (?, ?, ?)").run(
    key,
    JSON.stringify(SCHEMAS[key].parse(value)),
    at,
  );
  return readMeta(db, key)!;
}

/** The id of the master key that seals this vault now; undefined for a vault not made yet. */
export function sealingKeyId(db: Db): string | undefined {
  return readMeta(db, "keys")?.current;
}
