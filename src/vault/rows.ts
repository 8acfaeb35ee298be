// SQL for the secrets and secret_versions tables. Everything read back is parsed with zod; a row
// that does not parse is an integrity failure (see parseRow). No SQL lives outside this file.
import * as z from "zod";
import type { Db } from "../store/db.ts";
import type { Identity, Sealed } from "./envelope.ts";
import { parseRow } from "./integrity.ts";
import { JurisdictionSchema, MODES, type Mode } from "./names.ts";

const Blob = z.instanceof(Uint8Array);

const JurisdictionsJson = z
  .string()
  .transform((s, ctx): unknown => {
    try {
      return JSON.parse(s);
    } catch {
      ctx.addIssue({ code: "custom", message: "not JSON" });
      return z.NEVER;
    }
  })
  .pipe(z.array(JurisdictionSchema));

export const SecretRowSchema = z.object({
  tenant: z.string(),
  name: z.string(),
  current_version: z.number().int().min(1),
  mode: z.enum(MODES),
  jurisdictions: JurisdictionsJson,
  created_at: z.string(),
  updated_at: z.string(),
  deleted_at: z.string().nullable(),
  destroyed_at: z.string().nullable(),
});
export type SecretRow = z.infer<typeof SecretRowSchema>;

const Meta = {
  tenant: z.string(),
  name: z.string(),
  version: z.number().int().min(1),
  created_at: z.string(),
  created_by: z.string().nullable(),
};
const Live = z.object({
  ...Meta,
  ciphertext: Blob,
  iv: Blob,
  tag: Blob,
  wrapped_key: Blob,
  key_id: z.string().min(1),
  destroyed_at: z.null(),
});
const Destroyed = z.object({
  ...Meta,
  ciphertext: z.null(),
  iv: z.null(),
  tag: z.null(),
  wrapped_key: z.null(),
  key_id: z.null(),
  destroyed_at: z.string(),
});
export const VersionRowSchema = z.union([Live, Destroyed]);
export type VersionRow = z.infer<typeof VersionRowSchema>;
export type LiveVersionRow = z.infer<typeof Live>;

const secretRow = (r: unknown) => parseRow(SecretRowSchema, r, "secrets");
const versionRow = (r: unknown) => parseRow(VersionRowSchema, r, "secret_versions");

export const sealedOf = (r: LiveVersionRow): Sealed => ({
  ciphertext: r.ciphertext,
  iv: r.iv,
  tag: r.tag,
  wrappedKey: r.wrapped_key,
  keyId: r.key_id,
});

export function createRows(db: Db) {
  return {
    secret(tenant: string, name: string): SecretRow | undefined {
      const r = db.prepare("SELECT * FROM secrets WHERE tenant = ? AND name = ?").get(tenant, name);
      return r === undefined ? undefined : secretRow(r);
    },
    secrets(tenant: string): SecretRow[] {
      return db.prepare("SELECT * FROM secrets WHERE tenant = ? ORDER BY name").all(tenant).map(secretRow);
    },
    version(id: Identity): VersionRow | undefined {
      const r = db
        .prepare("SELECT * FROM secret_versions WHERE tenant = ? AND name = ? AND version = ?")
        .get(id.tenant, id.name, id.version);
      return r === undefined ? undefined : versionRow(r);
    },
    versions(tenant: string, name: string): VersionRow[] {
      return db.prepare("SELECT * FROM secret_versions WHERE tenant = ? AND name = ? ORDER BY version").all(tenant, name).map(versionRow);
    },
    /** Every version still holding a wrapped key, across tenants (for rotation). */
    liveVersions(): LiveVersionRow[] {
      return db
        .prepare("SELECT * FROM secret_versions WHERE destroyed_at IS NULL ORDER BY tenant, name, version")
        .all()
        .map(versionRow)
        .filter((r): r is LiveVersionRow => r.destroyed_at === null);
    },
    insertSecret(s: { tenant: string; name: string; version: number; mode: Mode; jurisdictions: string[]; at: string }): void {
      db.prepare(
        "INSERT INTO secrets (tenant, name, current_version, mode, jurisdictions, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
      ).run(s.tenant, s.name, s.version, s.mode, JSON.stringify(s.jurisdictions), s.at, s.at);
    },
    /** A new current version: also clears destroyed_at (the secret holds a value again). */
    advance(s: { tenant: string; name: string; version: number; mode: Mode; jurisdictions: string[]; at: string }): void {
      db.prepare(
        "UPDATE secrets SET current_version = ?, mode = ?, jurisdictions = ?, updated_at = ?, destroyed_at = NULL WHERE tenant = ? AND name = ?",
      ).run(s.version, s.mode, JSON.stringify(s.jurisdictions), s.at, s.tenant, s.name);
    },
    setPolicy(tenant: string, name: string, mode: Mode, jurisdictions: string[], at: string): void {
      db.prepare("UPDATE secrets SET mode = ?, jurisdictions = ?, updated_at = ? WHERE tenant = ? AND name = ?").run(
        mode,
        JSON.stringify(jurisdictions),
        at,
        tenant,
        name,
      );
    },
    setDeleted(tenant: string, name: string, deletedAt: string | null, at: string): void {
      db.prepare("UPDATE secrets SET deleted_at = ?, updated_at = ? WHERE tenant = ? AND name = ?").run(deletedAt, at, tenant, name);
    },
    setDestroyed(tenant: string, name: string, destroyedAt: string | null, at: string): void {
      db.prepare("UPDATE secrets SET destroyed_at = ?, updated_at = ? WHERE tenant = ? AND name = ?").run(destroyedAt, at, tenant, name);
    },
    insertVersion(id: Identity, sealed: Sealed, at: string, by: string | null): void {
      db.prepare(
        "INSERT INTO secret_versions (tenant, name, version, ciphertext, iv, tag, wrapped_key, key_id, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      ).run(id.tenant, id.name, id.version, sealed.ciphertext, sealed.iv, sealed.tag, sealed.wrappedKey, sealed.keyId, at, by);
    },
    rewrap(id: Identity, wrappedKey: Uint8Array, keyId: string): void {
      db.prepare("UPDATE secret_versions SET wrapped_key = ?, key_id = ? WHERE tenant = ? AND name = ? AND version = ?").run(
        wrappedKey,
        keyId,
        id.tenant,
        id.name,
        id.version,
      );
    },
    /** Drops every byte of a version's ciphertext and wrapped key; the metadata stays. */
    destroy(id: Identity, at: string): boolean {
      return (
        db
          .prepare(
            "UPDATE secret_versions SET ciphertext = NULL, iv = NULL, tag = NULL, wrapped_key = NULL, key_id = NULL, destroyed_at = ? WHERE tenant = ? AND name = ? AND version = ? AND destroyed_at IS NULL",
          )
          .run(at, id.tenant, id.name, id.version).changes > 0
      );
    },
    /** Removes versions older than `keepFrom` entirely (beyond the kept history). */
    prune(tenant: string, name: string, keepFrom: number): number {
      return Number(
        db.prepare("DELETE FROM secret_versions WHERE tenant = ? AND name = ? AND version < ?").run(tenant, name, keepFrom).changes,
      );
    },
  };
}
export type Rows = ReturnType<typeof createRows>;
