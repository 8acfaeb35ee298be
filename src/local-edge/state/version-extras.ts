// What a version carries besides its modules and bindings: the Durable Object migration it
// applied (PUT uploads only), its versioned settings (placement, limits, …) and its static assets
// (the manifest of path -> content hash and the serving config). Immutable like the version.
import type { EdgeDb } from "./db.ts";

export type AssetManifest = Record<string, { hash: string; size: number }>;

export type VersionExtras = {
  migrations: { old_tag?: string; new_tag?: string; steps: unknown[] } | null;
  settings: Record<string, unknown>;
  assets: { config: Record<string, unknown>; manifest: AssetManifest } | null;
};

export const NO_EXTRAS: VersionExtras = { migrations: null, settings: {}, assets: null };

type Row = Record<string, unknown>;

export function createVersionExtrasStore(db: EdgeDb) {
  const parse = (r: Row): VersionExtras => ({
    migrations: r.migrations == null ? null : JSON.parse(r.migrations as string),
    settings: JSON.parse(r.settings as string),
    assets:
      r.assets_manifest == null
        ? null
        : { config: JSON.parse(r.assets_config as string), manifest: JSON.parse(r.assets_manifest as string) },
  });
  return {
    get(versionId: string): VersionExtras {
      const r = db.prepare("SELECT * FROM version_extras WHERE version_id = ?").get(versionId) as Row | undefined;
      return r ? parse(r) : NO_EXTRAS;
    },
    put(versionId: string, e: VersionExtras): void {
      if (e.migrations === null && e.assets === null && Object.keys(e.settings).length === 0) return;
      db.prepare(
        `INSERT INTO version_extras (version_id, migrations, settings, assets_config, assets_manifest) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (version_id) DO UPDATE SET migrations = excluded.migrations, settings = excluded.settings,
           assets_config = excluded.assets_config, assets_manifest = excluded.assets_manifest`,
      ).run(
        versionId,
        e.migrations === null ? null : JSON.stringify(e.migrations),
        JSON.stringify(e.settings),
        e.assets === null ? null : JSON.stringify(e.assets.config),
        e.assets === null ? null : JSON.stringify(e.assets.manifest),
      );
    },
    /** Versions of the script that carried a migration, newest number first. */
    migrationVersionNumbers(accountId: string, script: string): number[] {
      return (
        db
          .prepare(
            `SELECT v.number AS n FROM versions v JOIN version_extras e ON e.version_id = v.id
         WHERE v.account_id = ? AND v.script = ? AND e.migrations IS NOT NULL ORDER BY v.number DESC`,
          )
          .all(accountId, script) as Row[]
      ).map((r) => Number(r.n));
    },
    deleteOfScript(accountId: string, script: string): void {
      db.prepare("DELETE FROM version_extras WHERE version_id IN (SELECT id FROM versions WHERE account_id = ? AND script = ?)").run(
        accountId,
        script,
      );
    },
  };
}
export type VersionExtrasStore = ReturnType<typeof createVersionExtrasStore>;
