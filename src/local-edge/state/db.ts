// The local edge's state: one SQLite file (node:sqlite, WAL) holding what Cloudflare would hold
// for the region accounts. Forward-only numbered migrations; workerd holds no state of its own,
// so a restart rebuilds every region from this file.
import { DatabaseSync } from "node:sqlite";
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { ensurePrivateDir, ensurePrivateFile, tighten } from "../../config/private-fs.ts";
import { CboError } from "../../kit/errors.ts";
import { transaction } from "../../kit/transaction.ts";

const MIGRATIONS: string[] = [
  // 1: initial schema
  `
  CREATE TABLE accounts (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, region TEXT NOT NULL UNIQUE, subdomain TEXT NOT NULL,
    created_on TEXT NOT NULL
  );
  CREATE TABLE scripts (
    account_id TEXT NOT NULL, name TEXT NOT NULL, tag TEXT NOT NULL,
    created_on TEXT NOT NULL, modified_on TEXT NOT NULL,
    settings TEXT NOT NULL DEFAULT '{}', schedules TEXT NOT NULL DEFAULT '[]',
    subdomain_enabled INTEGER NOT NULL DEFAULT 1, previews_enabled INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (account_id, name)
  );
  CREATE TABLE versions (
    id TEXT PRIMARY KEY, account_id TEXT NOT NULL, script TEXT NOT NULL, number INTEGER NOT NULL,
    created_on TEXT NOT NULL, source TEXT NOT NULL, author_email TEXT NOT NULL,
    annotations TEXT NOT NULL, main_module TEXT NOT NULL, compatibility_date TEXT NOT NULL,
    compatibility_flags TEXT NOT NULL, bindings TEXT NOT NULL, etag TEXT NOT NULL
  );
  CREATE INDEX versions_by_script ON versions (account_id, script, number);
  CREATE TABLE modules (
    version_id TEXT NOT NULL, name TEXT NOT NULL, type TEXT NOT NULL, content BLOB NOT NULL,
    PRIMARY KEY (version_id, name)
  );
  CREATE TABLE deployments (
    id TEXT PRIMARY KEY, seq INTEGER NOT NULL, account_id TEXT NOT NULL, script TEXT NOT NULL,
    created_on TEXT NOT NULL, source TEXT NOT NULL, author_email TEXT NOT NULL,
    annotations TEXT NOT NULL, versions TEXT NOT NULL
  );
  CREATE INDEX deployments_by_script ON deployments (account_id, script, seq);
  CREATE TABLE kv_namespaces (
    id TEXT PRIMARY KEY, account_id TEXT NOT NULL, title TEXT NOT NULL, created_on TEXT NOT NULL,
    UNIQUE (account_id, title)
  );
  CREATE TABLE kv_values (
    namespace_id TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL, metadata TEXT,
    expiration INTEGER, PRIMARY KEY (namespace_id, key)
  );
  CREATE TABLE tunnels (
    id TEXT PRIMARY KEY, account_id TEXT NOT NULL, name TEXT NOT NULL, secret TEXT NOT NULL,
    config_src TEXT NOT NULL, created_at TEXT NOT NULL, deleted_at TEXT,
    config TEXT, config_version INTEGER NOT NULL DEFAULT 0
  );
  `,
  // 2: Workers beyond code: Durable Object namespaces and migration tags, what a version carries
  // besides modules and bindings (migrations, settings, assets), content-addressed assets with
  // their upload sessions, zones with routes and custom domains, Analytics Engine data points.
  `
  CREATE TABLE do_namespaces (
    id TEXT PRIMARY KEY, account_id TEXT NOT NULL, script TEXT NOT NULL, class TEXT NOT NULL,
    use_sqlite INTEGER NOT NULL, created_on TEXT NOT NULL, UNIQUE (account_id, script, class)
  );
  CREATE TABLE script_migration_tags (
    account_id TEXT NOT NULL, script TEXT NOT NULL, tag TEXT NOT NULL, PRIMARY KEY (account_id, script)
  );
  CREATE TABLE version_extras (
    version_id TEXT PRIMARY KEY, migrations TEXT, settings TEXT NOT NULL DEFAULT '{}',
    assets_config TEXT, assets_manifest TEXT
  );
  CREATE TABLE asset_blobs (
    account_id TEXT NOT NULL, hash TEXT NOT NULL, content_type TEXT, content BLOB NOT NULL,
    PRIMARY KEY (account_id, hash)
  );
  CREATE TABLE asset_sessions (
    id TEXT PRIMARY KEY, account_id TEXT NOT NULL, script TEXT NOT NULL, manifest TEXT NOT NULL, created_on TEXT NOT NULL
  );
  CREATE TABLE zones (id TEXT PRIMARY KEY, account_id TEXT NOT NULL, name TEXT NOT NULL, UNIQUE (account_id, name));
  CREATE TABLE worker_routes (
    id TEXT PRIMARY KEY, account_id TEXT NOT NULL, zone_id TEXT NOT NULL, pattern TEXT NOT NULL, script TEXT,
    UNIQUE (zone_id, pattern)
  );
  CREATE TABLE worker_domains (
    id TEXT PRIMARY KEY, account_id TEXT NOT NULL, zone_id TEXT NOT NULL, zone_name TEXT NOT NULL,
    hostname TEXT NOT NULL, service TEXT NOT NULL, environment TEXT NOT NULL, enabled INTEGER NOT NULL,
    previews_enabled INTEGER NOT NULL, created_on TEXT NOT NULL, UNIQUE (account_id, hostname)
  );
  CREATE TABLE ae_datapoints (
    account_id TEXT NOT NULL, dataset TEXT NOT NULL, script TEXT NOT NULL, timestamp TEXT NOT NULL,
    index1 TEXT, blobs TEXT NOT NULL, doubles TEXT NOT NULL
  );
  CREATE INDEX ae_datapoints_by_dataset ON ae_datapoints (account_id, dataset, timestamp);
  `,
  // 3: D1 databases (their data lives in <data>/d1/<uuid>/), R2 buckets and object metadata
  // (bytes in <data>/r2/), queues, consumers and queued messages
  `
  CREATE TABLE d1_databases (
    uuid TEXT PRIMARY KEY, account_id TEXT NOT NULL, name TEXT NOT NULL, created_at TEXT NOT NULL,
    jurisdiction TEXT, location TEXT, UNIQUE (account_id, name)
  );
  CREATE TABLE r2_buckets (
    id TEXT PRIMARY KEY, account_id TEXT NOT NULL, jurisdiction TEXT NOT NULL, name TEXT NOT NULL,
    created_at TEXT NOT NULL, location TEXT, storage_class TEXT NOT NULL,
    UNIQUE (account_id, jurisdiction, name)
  );
  CREATE TABLE r2_objects (
    bucket_id TEXT NOT NULL, key TEXT NOT NULL, blob TEXT NOT NULL, size INTEGER NOT NULL,
    etag TEXT NOT NULL, version TEXT NOT NULL, uploaded_ms INTEGER NOT NULL,
    http_metadata TEXT NOT NULL, custom_metadata TEXT NOT NULL, storage_class TEXT NOT NULL,
    PRIMARY KEY (bucket_id, key)
  );
  CREATE TABLE queues (
    id TEXT PRIMARY KEY, account_id TEXT NOT NULL, name TEXT NOT NULL, created_on TEXT NOT NULL,
    modified_on TEXT NOT NULL, settings TEXT NOT NULL, UNIQUE (account_id, name)
  );
  CREATE TABLE queue_consumers (
    id TEXT PRIMARY KEY, queue_id TEXT NOT NULL, type TEXT NOT NULL, script TEXT,
    dead_letter_queue TEXT, settings TEXT NOT NULL, created_on TEXT NOT NULL
  );
  CREATE TABLE queue_messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, queue_id TEXT NOT NULL,
    body BLOB NOT NULL, content_type TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
    created_ms INTEGER NOT NULL, visible_ms INTEGER NOT NULL, leased_until INTEGER
  );
  CREATE INDEX queue_messages_ready ON queue_messages (queue_id, visible_ms);
  `,
  // 4: Workers invocation analytics (GraphQL workersInvocationsAdaptive): one row per account,
  // minute, script, version and invocation status, with the wall-time histogram for quantiles
  `
  CREATE TABLE invocation_minutes (
    account_id TEXT NOT NULL, minute INTEGER NOT NULL, script TEXT NOT NULL, version_id TEXT NOT NULL,
    status TEXT NOT NULL, requests INTEGER NOT NULL, subrequests INTEGER NOT NULL,
    wall_ms REAL NOT NULL, wall_hist TEXT NOT NULL,
    PRIMARY KEY (account_id, minute, script, version_id, status)
  );
  `,
  // 5: R2 multipart uploads through a Worker's binding: the open uploads and their parts' files
  `
  CREATE TABLE r2_uploads (
    upload_id TEXT PRIMARY KEY, bucket_id TEXT NOT NULL, key TEXT NOT NULL,
    http_metadata TEXT NOT NULL, custom_metadata TEXT NOT NULL, storage_class TEXT NOT NULL,
    created_ms INTEGER NOT NULL
  );
  CREATE TABLE r2_parts (
    upload_id TEXT NOT NULL, part_number INTEGER NOT NULL, blob TEXT NOT NULL, size INTEGER NOT NULL,
    etag TEXT NOT NULL, PRIMARY KEY (upload_id, part_number)
  );
  `,
  // 6: R2 bucket configuration as the REST API keeps it (CORS, lifecycle and lock rules, as JSON):
  // one row per bucket and kind; no lifecycle row means R2's default rule (state/r2.ts)
  `
  CREATE TABLE r2_bucket_config (
    bucket_id TEXT NOT NULL, kind TEXT NOT NULL, rules TEXT NOT NULL, PRIMARY KEY (bucket_id, kind)
  );
  `,
  // 7: a D1 database's read replication mode as PATCH/PUT …/d1/database/:id set it (stored and
  // served; sessions still read the primary), and an account's Workers settings (PUT
  // …/workers/account-settings, as JSON)
  `
  ALTER TABLE d1_databases ADD COLUMN read_replication TEXT NOT NULL DEFAULT 'disabled';
  ALTER TABLE accounts ADD COLUMN worker_settings TEXT NOT NULL DEFAULT '{}';
  `,
];

export type EdgeDb = DatabaseSync;

export function openEdgeDb(dataDir: string): EdgeDb {
  ensurePrivateDir(dataDir);
  // It holds per-Worker keys and binding secrets: 0600 before SQLite opens it, since SQLite gives
  // the -wal and -shm files it creates the main file's mode; ones left wider earlier are tightened.
  const file = join(dataDir, "edge.sqlite");
  refuseLostEdgeDb(dataDir, file);
  ensurePrivateFile(file);
  for (const extra of [`${file}-wal`, `${file}-shm`]) if (existsSync(extra)) tighten(extra, 0o600);
  let db: EdgeDb | undefined;
  try {
    db = new DatabaseSync(file);
    db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;");
    migrateEdge(db, file);
  } catch (e) {
    db?.close();
    throw damagedEdgeDb(e, file) ?? e;
  }
  return db;
}

// SQLite's primary result codes for a damaged file (https://sqlite.org/rescode.html); node:sqlite
// puts the extended code in `errcode`, whose low byte is the primary one.
const SQLITE_CORRUPT = 11;
const SQLITE_NOTADB = 26;

/** ERR_STORE_CORRUPT naming the file and the way out, for SQLite's "malformed" and "not a database"; else undefined. */
function damagedEdgeDb(e: unknown, file: string): CboError | undefined {
  const x = e as { code?: unknown; errcode?: unknown } | null;
  if (x?.code !== "ERR_SQLITE_ERROR" || typeof x.errcode !== "number") return undefined;
  const primary = x.errcode & 0xff;
  if (primary !== SQLITE_CORRUPT && primary !== SQLITE_NOTADB) return undefined;
  return new CboError("ERR_STORE_CORRUPT", `The local edge's state ${file} is damaged (${(e as Error).message}); nothing was changed.`, {
    details: { path: file },
    hint:
      "Put back a copy of the file if you have one. Otherwise move the edge's directory aside and start the edge on a new one: " +
      "its regions get new accounts, so restart the daemon on it and release each Worker again (D1, KV and R2 data start empty).",
    cause: e,
  });
}

/**
 * A missing or empty edge.sqlite in a directory an edge has run in (edge.json, written once an edge
 * is up, is there): starting would be a new, empty edge under the old one's name (every Worker,
 * KV value and D1 database gone, the regions' account ids new), so it is refused.
 */
function refuseLostEdgeDb(dataDir: string, file: string): void {
  const size = existsSync(file) ? statSync(file).size : undefined;
  if (size !== undefined && size > 0) return;
  if (!existsSync(join(dataDir, "edge.json"))) return;
  const state = size === undefined ? "missing" : "empty";
  throw new CboError(
    "ERR_STORE_LOST",
    `The local edge's state ${file} is ${state}, but ${dataDir} has held a running edge (edge.json); starting would give a new, empty edge (every Worker, KV value and D1 database gone, new account ids), so the edge refuses to start.`,
    {
      details: { path: file, state },
      hint: `Put back a copy of ${file} if you have one. To start afresh on purpose, remove ${join(dataDir, "edge.json")}: the edge then starts empty, so restart the daemon on it and release each Worker again (\`cbo up\` does both).`,
    },
  );
}

/**
 * Each migration in one transaction with its schema_migrations row and the user_version it reaches
 * (a process killed part-way leaves the last whole one). A file a newer build wrote (a version
 * beyond MIGRATIONS) is refused before any write: this build does not know its tables.
 */
function migrateEdge(db: EdgeDb, file: string): void {
  const version = (): number => {
    const user = Number((db.prepare("PRAGMA user_version").get() as { user_version: number }).user_version);
    const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").get();
    const row = table ? (db.prepare("SELECT MAX(version) AS v FROM schema_migrations").get() as { v: number | null }) : { v: 0 };
    return Math.max(user, row.v ?? 0);
  };
  const found = version();
  if (found > MIGRATIONS.length) {
    throw new CboError(
      "ERR_STORE_TOO_NEW",
      `The local edge's state ${file} was written by a newer cbo (schema version ${found}; this cbo knows up to ${MIGRATIONS.length}); it was left unchanged.`,
      {
        details: { path: file, found, known: MIGRATIONS.length },
        hint: "Run the cbo that wrote it, or a newer one (git pull && npm install); or give this edge another directory (--edge DIR, or a new --data DIR).",
      },
    );
  }
  db.exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY)");
  for (let i = found; i < MIGRATIONS.length; i++) {
    transaction(db, () => {
      if (version() > i) return; // applied by another process since the read above
      db.exec(MIGRATIONS[i]!);
      db.prepare("INSERT INTO schema_migrations (version) VALUES (?)").run(i + 1);
      db.exec(`PRAGMA user_version = ${i + 1}`);
    });
  }
  // A file an older build brought up to date has user_version 0: stamp it for later builds.
  if (Number((db.prepare("PRAGMA user_version").get() as { user_version: number }).user_version) < MIGRATIONS.length) {
    transaction(db, () => db.exec(`PRAGMA user_version = ${MIGRATIONS.length}`));
  }
}

/** Runs fn in one transaction: every API mutation is all-or-nothing. */
export { transaction } from "../../kit/transaction.ts";
