// Static assets: content-addressed blobs shared by every script of an account (so a redeploy
// uploads only what the account does not hold yet), and the upload sessions that collect them.
import type { EdgeDb } from "./db.ts";
import type { AssetManifest } from "./version-extras.ts";

export type AssetSession = { id: string; account_id: string; script: string; manifest: AssetManifest; created_on: string };
export type AssetBlob = { content_type: string | null; content: Uint8Array };

type Row = Record<string, unknown>;

export function createAssetStore(db: EdgeDb) {
  return {
    has(accountId: string, hash: string): boolean {
      return db.prepare("SELECT 1 FROM asset_blobs WHERE account_id = ? AND hash = ?").get(accountId, hash) !== undefined;
    },
    get(accountId: string, hash: string): AssetBlob | undefined {
      const r = db.prepare("SELECT content_type, content FROM asset_blobs WHERE account_id = ? AND hash = ?").get(accountId, hash) as
        | Row
        | undefined;
      return r && { content_type: (r.content_type as string | null) ?? null, content: r.content as Uint8Array };
    },
    put(accountId: string, hash: string, contentType: string | null, content: Uint8Array): void {
      db.prepare("INSERT OR IGNORE INTO asset_blobs (account_id, hash, content_type, content) VALUES (?, ?, ?, ?)").run(
        accountId,
        hash,
        contentType,
        content,
      );
    },
    count(accountId: string): number {
      return Number((db.prepare("SELECT COUNT(*) AS n FROM asset_blobs WHERE account_id = ?").get(accountId) as Row).n);
    },
    insertSession(s: AssetSession): void {
      db.prepare("INSERT INTO asset_sessions (id, account_id, script, manifest, created_on) VALUES (?, ?, ?, ?, ?)").run(
        s.id,
        s.account_id,
        s.script,
        JSON.stringify(s.manifest),
        s.created_on,
      );
    },
    session(id: string): AssetSession | undefined {
      const r = db.prepare("SELECT * FROM asset_sessions WHERE id = ?").get(id) as Row | undefined;
      return (
        r && {
          id: r.id as string,
          account_id: r.account_id as string,
          script: r.script as string,
          manifest: JSON.parse(r.manifest as string),
          created_on: r.created_on as string,
        }
      );
    },
    /** Sessions are only needed until their version is uploaded; old ones go. */
    pruneSessions(olderThanIso: string): void {
      db.prepare("DELETE FROM asset_sessions WHERE created_on < ?").run(olderThanIso);
    },
  };
}
export type AssetStore = ReturnType<typeof createAssetStore>;
