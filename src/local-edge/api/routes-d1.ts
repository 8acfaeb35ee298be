// /accounts/:acct/d1/database/*: databases, query and raw, the import and export flows, and Time
// Travel, as wrangler drives them (CLOUDFLARE-API-FLEET.md §1). The import upload and the export
// download are plain URLs without auth (wrangler sends none), served by d1TransferRoutes under
// /__d1/, each behind a random token that expires.
import { createHash } from "node:crypto";
import { Hono, type Context } from "hono";
import { hexId, uuid } from "../../kit/ids.ts";
import type { D1Pool } from "../d1/pool.ts";
import { D1SqlError, type StatementResult } from "../d1/engine.ts";
import { D1ExportRefused, dumpSql, type DumpOptions } from "../d1/dump.ts";
import { dumpSqlite3Cli } from "../d1/dump-sqlite3.ts";
import { RETENTION_MS } from "../d1/history.ts";
import type { D1Database, D1Store } from "../state/d1.ts";
import type { Account } from "../state/model.ts";
import { CF_CODES, CfApiError, ok, pageInfo } from "./envelope.ts";
import { readJson, readJsonObject } from "./json-body.ts";
import type { EdgeEnv } from "./routes-workers.ts";

const LOCATIONS = ["weur", "eeur", "apac", "oc", "wnam", "enam"];
const JURISDICTIONS = ["eu", "fedramp", "us"];
const TRANSFER_TTL_MS = 3600_000;
const REGION_LOCATION: Record<string, string> = { eu: "WEUR", us: "ENAM", ap: "APAC" };

const bad = (message: string) => new CfApiError(400, CF_CODES.D1_BAD_REQUEST, message);

export type D1ApiDeps = { d1: D1Store; d1Pool: D1Pool };

/** Uploads waiting for ingest and dumps waiting for download, by token; in memory, short-lived. */
export function createD1Transfers() {
  const uploads = new Map<string, { databaseId: string; etag: string; sql?: string; expires: number }>();
  const downloads = new Map<string, { body: string; filename: string; expires: number }>();
  const imports = new Map<string, unknown>();
  const sweep = () => {
    const t = Date.now();
    for (const [k, v] of uploads) if (v.expires < t) uploads.delete(k);
    for (const [k, v] of downloads) if (v.expires < t) downloads.delete(k);
  };
  return { uploads, downloads, imports, sweep };
}
export type D1Transfers = ReturnType<typeof createD1Transfers>;

function locationOf(db: D1Database, account: Account): string {
  return (db.location ?? "").toUpperCase() || (REGION_LOCATION[account.region] ?? "WNAM");
}

function listJson(db: D1Database) {
  return {
    uuid: db.uuid,
    name: db.name,
    version: "production",
    created_at: db.created_at,
    ...(db.jurisdiction ? { jurisdiction: db.jurisdiction } : {}),
  };
}

/** One statement's result as the REST /query endpoint answers it. */
function queryJson(r: StatementResult) {
  return { results: r.rows.map((row) => Object.fromEntries(row.map((v, i) => [r.columns[i], v]))), success: true, meta: r.meta };
}
function rawJson(r: StatementResult) {
  return { results: { columns: r.columns, rows: r.rows }, success: true, meta: r.meta };
}

function importMeta(results: StatementResult[]) {
  const sum = (f: (r: StatementResult) => number) => results.reduce((s, r) => s + f(r), 0);
  const last = results.at(-1);
  return {
    served_by: "local-edge",
    duration: sum((r) => r.meta.duration),
    changes: sum((r) => r.meta.changes),
    last_row_id: last?.meta.last_row_id ?? 0,
    changed_db: results.some((r) => r.meta.changed_db),
    size_after: last?.meta.size_after ?? 0,
    rows_read: sum((r) => r.meta.rows_read),
    rows_written: sum((r) => r.meta.rows_written),
  };
}

export function d1Routes(deps: D1ApiDeps, transfers: D1Transfers) {
  const { d1, d1Pool } = deps;
  const app = new Hono<EdgeEnv>();

  const database = (c: Context<EdgeEnv>): D1Database => {
    const found = d1.find(c.var.account.id, decodeURIComponent(c.req.param("db") ?? ""));
    if (!found) throw new CfApiError(404, CF_CODES.D1_NOT_FOUND, "Not Found: the D1 database does not exist in this account.");
    return found;
  };
  const origin = (c: Context<EdgeEnv>) => new URL(c.req.url).origin;

  app.post("/d1/database", async (c) => {
    const body = (await readJson(c)) as { name?: unknown; primary_location_hint?: unknown; jurisdiction?: unknown };
    if (typeof body.name !== "string" || !/^[A-Za-z0-9_-]{1,64}$/.test(body.name)) {
      throw bad("A D1 database needs a `name` of 1 to 64 letters, digits, dashes or underscores.");
    }
    const hint = body.primary_location_hint;
    if (hint !== undefined && (typeof hint !== "string" || !LOCATIONS.includes(hint.toLowerCase()))) {
      throw bad(`primary_location_hint must be one of ${LOCATIONS.join(", ")}.`);
    }
    const j = body.jurisdiction;
    if (j !== undefined && (typeof j !== "string" || !JURISDICTIONS.includes(j)))
      throw bad(`jurisdiction must be one of ${JURISDICTIONS.join(", ")}.`);
    if (d1.find(c.var.account.id, body.name))
      throw new CfApiError(400, CF_CODES.D1_NAME_TAKEN, "A database with that name already exists.");
    const created: D1Database = {
      uuid: uuid(),
      account_id: c.var.account.id,
      name: body.name,
      created_at: new Date().toISOString(),
      // A jurisdiction makes the location hint moot, as wrangler's help says.
      jurisdiction: (j as string | undefined) ?? null,
      location: j ? null : ((hint as string | undefined)?.toLowerCase() ?? null),
    };
    d1.insert(created);
    return ok(c, { ...listJson(created), created_in_region: locationOf(created, c.var.account), file_size: 0, num_tables: 0 });
  });

  app.get("/d1/database", (c) => {
    const page = Math.max(1, Math.floor(Number(c.req.query("page") ?? 1)) || 1);
    const perPage = Math.min(10_000, Math.max(1, Math.floor(Number(c.req.query("per_page") ?? 1000)) || 1000));
    const name = c.req.query("name");
    const items = d1.list(c.var.account.id, { ...(name !== undefined ? { name } : {}), limit: perPage, offset: (page - 1) * perPage });
    return ok(
      c,
      items.map(listJson),
      pageInfo(page, perPage, items.length, name !== undefined ? items.length : d1.count(c.var.account.id)),
    );
  });

  app.get("/d1/database/:db", (c) => {
    const db = database(c);
    if (c.req.query("fields")) {
      const fields = c.req.query("fields")!.split(",");
      const full: Record<string, unknown> = { uuid: db.uuid, name: db.name };
      return ok(c, Object.fromEntries(Object.entries(full).filter(([k]) => fields.includes(k))));
    }
    return ok(c, details(c, db));
  });
  const details = (c: Context<EdgeEnv>, db: D1Database) => {
    const engine = d1Pool.get(db.uuid);
    return {
      ...listJson(db),
      num_tables: engine.numTables(),
      file_size: engine.sizeBytes(),
      running_in_region: locationOf(db, c.var.account),
      read_replication: { mode: db.read_replication ?? "disabled" },
    };
  };
  // The SDK's d1.database.edit (PATCH, every field optional) and update (PUT, read_replication
  // required): the one setting they carry is the read replication mode.
  const setReplication = (required: boolean) => async (c: Context<EdgeEnv>) => {
    const db = database(c);
    const body = (await readJsonObject(c)) as { read_replication?: unknown };
    const rr = body.read_replication as { mode?: unknown } | undefined;
    if (rr === undefined && !required) return ok(c, details(c, db));
    if (rr === null || typeof rr !== "object" || (rr.mode !== "auto" && rr.mode !== "disabled"))
      throw new CfApiError(400, CF_CODES.D1_BAD_REQUEST, 'read_replication must be {"mode": "auto"} or {"mode": "disabled"}.');
    d1.setReadReplication(db.uuid, rr.mode);
    return ok(c, details(c, { ...db, read_replication: rr.mode }));
  };
  app.patch("/d1/database/:db", setReplication(false));
  app.put("/d1/database/:db", setReplication(true));

  app.delete("/d1/database/:db", (c) => {
    const db = database(c);
    d1Pool.destroy(db.uuid);
    d1.delete(db.uuid);
    return ok(c, null);
  });

  /** `{sql, params?}` or `{batch: [{sql, params?}]}`, all in one transaction. */
  function queries(body: unknown): Array<{ sql: string; params: unknown[] }> {
    const b = (body ?? {}) as { sql?: unknown; params?: unknown; batch?: unknown };
    const one = (q: { sql?: unknown; params?: unknown }) => {
      if (typeof q?.sql !== "string" || q.sql.trim() === "") throw bad("The body needs `sql`: the SQL text to run.");
      if (q.params !== undefined && !Array.isArray(q.params)) throw bad("`params` must be an array.");
      return { sql: q.sql, params: (q.params as unknown[] | undefined) ?? [] };
    };
    if (Array.isArray(b.batch)) return b.batch.map((q) => one(q as { sql?: unknown; params?: unknown }));
    return [one(b)];
  }
  const run = (db: D1Database, qs: Array<{ sql: string; params: unknown[] }>) => {
    try {
      return d1Pool.get(db.uuid).runAtomic(qs);
    } catch (e) {
      if (e instanceof D1SqlError) throw new CfApiError(400, CF_CODES.D1_QUERY_FAILED, e.message);
      throw e;
    }
  };
  app.post("/d1/database/:db/query", async (c) => {
    const db = database(c);
    return ok(
      c,
      run(db, queries(await readJson(c)))
        .results.flat()
        .map(queryJson),
    );
  });
  app.post("/d1/database/:db/raw", async (c) => {
    const db = database(c);
    return ok(
      c,
      run(db, queries(await readJson(c)))
        .results.flat()
        .map(rawJson),
    );
  });

  // --- import (`d1 execute --remote --file`): init -> PUT upload_url -> ingest -> poll ---
  app.post("/d1/database/:db/import", async (c) => {
    const db = database(c);
    const body = (await readJson(c)) as { action?: unknown; etag?: unknown; filename?: unknown };
    transfers.sweep();
    if (body.action === "init") {
      if (typeof body.etag !== "string" || !/^[0-9a-f]{32}$/.test(body.etag)) throw bad("init needs `etag`: the md5 of the file, in hex.");
      const token = hexId(16);
      transfers.uploads.set(token, { databaseId: db.uuid, etag: body.etag, expires: Date.now() + TRANSFER_TTL_MS });
      return ok(c, { filename: `${token}.sql`, upload_url: `${origin(c)}/__d1/upload/${token}` });
    }
    if (body.action === "ingest") {
      const token = typeof body.filename === "string" ? body.filename.replace(/\.sql$/, "") : "";
      const upload = transfers.uploads.get(token);
      if (!upload || upload.databaseId !== db.uuid || upload.sql === undefined) {
        return ok(c, { success: false, error: "No uploaded file by that name: upload it first (init, then PUT to upload_url)." });
      }
      transfers.uploads.delete(token);
      const engine = d1Pool.get(db.uuid);
      let status: unknown;
      try {
        const out = engine.runAtomic([{ sql: upload.sql }], { import: true });
        const results = out.results[0]!;
        status = {
          success: true,
          type: "import",
          at_bookmark: out.bookmark,
          messages: [`Imported ${results.length} statements.`],
          errors: [],
          status: "complete",
          result: { final_bookmark: out.bookmark, num_queries: results.length, meta: importMeta(results) },
        };
      } catch (e) {
        if (!(e instanceof D1SqlError)) throw e;
        status = {
          success: true,
          type: "import",
          at_bookmark: engine.bookmark(),
          messages: ["The import was rolled back; the database is unchanged."],
          errors: [e.message],
          status: "error",
        };
      }
      transfers.imports.set(db.uuid, status);
      return ok(c, status);
    }
    if (body.action === "poll") {
      const status = transfers.imports.get(db.uuid);
      return ok(c, status ?? { success: false, error: "No import is running for this database." });
    }
    throw bad('`action` must be "init", "ingest" or "poll".');
  });

  // --- export (`d1 export --remote`): one polling call answers complete with a signed URL ---
  app.post("/d1/database/:db/export", async (c) => {
    const db = database(c);
    const body = (await readJson(c)) as { output_format?: unknown; dump_options?: DumpOptions };
    if (body.output_format !== undefined && body.output_format !== "polling") throw bad('output_format must be "polling".');
    const opts = body.dump_options ?? {};
    if (opts.tables !== undefined && (!Array.isArray(opts.tables) || !opts.tables.every((t) => typeof t === "string")))
      throw bad("dump_options.tables must be an array of table names.");
    if (opts.compatibility !== undefined && opts.compatibility !== "d1" && opts.compatibility !== "sqlite3_cli_only")
      throw bad('dump_options.compatibility must be "d1" or "sqlite3_cli_only".');
    const engine = d1Pool.get(db.uuid);
    const bookmark = engine.bookmark();
    let sql: string;
    try {
      sql = engine.read((conn) => (opts.compatibility === "sqlite3_cli_only" ? dumpSqlite3Cli(conn, opts.tables) : dumpSql(conn, opts)));
    } catch (err) {
      if (!(err instanceof D1ExportRefused)) throw err;
      // In the polling object, as D1 reports a failed export: wrangler prints `error` and exits 1.
      return ok(c, { success: true, type: "export", at_bookmark: bookmark, messages: [], status: "error", error: err.message });
    }
    transfers.sweep();
    const token = hexId(20);
    const filename = `${db.name}-${bookmark}.sql`;
    transfers.downloads.set(token, { body: sql, filename, expires: Date.now() + TRANSFER_TTL_MS });
    return ok(c, {
      success: true,
      type: "export",
      at_bookmark: bookmark,
      messages: ["Generated SQL dump."],
      status: "complete",
      result: { filename, signed_url: `${origin(c)}/__d1/download/${token}` },
    });
  });

  // --- Time Travel ---
  function timestampParam(value: string | undefined): number {
    if (value === undefined || value === "") return Date.now();
    const ms = /^\d+$/.test(value) ? Number(value.length === 10 ? value + "000" : value) : Date.parse(value);
    if (!Number.isFinite(ms)) throw bad(`timestamp "${value}" is not an ISO 8601 time or unix timestamp.`);
    if (ms < Date.now() - RETENTION_MS) throw bad("timestamp is older than the 30 days of Time Travel history.");
    return Math.min(ms, Date.now());
  }
  app.get("/d1/database/:db/time_travel/bookmark", (c) => {
    const db = database(c);
    return ok(c, { bookmark: d1Pool.get(db.uuid).bookmarkAt(timestampParam(c.req.query("timestamp"))) });
  });
  app.post("/d1/database/:db/time_travel/restore", (c) => {
    const db = database(c);
    const engine = d1Pool.get(db.uuid);
    const given = c.req.query("bookmark");
    const bookmark =
      given ?? (c.req.query("timestamp") !== undefined ? engine.bookmarkAt(timestampParam(c.req.query("timestamp"))) : undefined);
    if (!bookmark) throw bad("Restore needs ?bookmark= (or ?timestamp=).");
    if (!engine.knows(bookmark)) throw bad(`Bookmark ${bookmark} is not a moment of this database within its Time Travel history.`);
    const r = engine.restore(bookmark);
    return ok(c, { ...r, message: `Database restored to bookmark ${bookmark}.` });
  });
  return app;
}

/** /__d1/upload/:token (PUT, the import file) and /__d1/download/:token (GET, an export): no auth, by token. */
export function d1TransferRoutes(transfers: D1Transfers) {
  const app = new Hono();
  const MAX_IMPORT_BYTES = 512 * 1024 * 1024;
  app.put("/__d1/upload/:token", async (c) => {
    transfers.sweep();
    const upload = transfers.uploads.get(c.req.param("token"));
    if (!upload) return c.text("No such upload, or it expired: start again with init.", 404);
    if (Number(c.req.header("content-length") ?? 0) > MAX_IMPORT_BYTES)
      return c.text("The file is over the local edge's 512 MiB import limit.", 413);
    const bytes = new Uint8Array(await c.req.arrayBuffer());
    if (bytes.byteLength > MAX_IMPORT_BYTES) return c.text("The file is over the local edge's 512 MiB import limit.", 413);
    const md5 = createHash("md5").update(bytes).digest("hex");
    // Only the file init announced is ingested; wrangler compares the etag and retries otherwise.
    if (md5 === upload.etag) upload.sql = new TextDecoder().decode(bytes);
    return new Response("", { status: 200, headers: { etag: `"${md5}"` } });
  });
  app.get("/__d1/download/:token", (c) => {
    transfers.sweep();
    const d = transfers.downloads.get(c.req.param("token"));
    if (!d) return c.text("No such export, or its link expired.", 404);
    return new Response(d.body, {
      headers: { "content-type": "application/sql", "content-disposition": `attachment; filename="${d.filename}"` },
    });
  });
  return app;
}
