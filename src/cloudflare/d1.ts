// D1 databases (CLOUDFLARE-API-FLEET §1): list, get by uuid or name, create, delete, `query` and
// `raw` (params, batches, multi-statement SQL: one result per statement), and Time Travel
// (bookmark at a moment, restore to a bookmark). A missing database is 404 with code 7404; the
// get calls answer null for it, so that callers can find-or-create.
import * as z from "zod";
import { CboError } from "../kit/errors.ts";
import { CF_ERROR, nullIfMissing } from "./codes.ts";
import { type ApiContext, seg } from "./context.ts";
import {
  D1BookmarkSchema,
  D1DatabaseSchema,
  type D1Database,
  D1QueryResultSchema,
  type D1QueryResult,
  D1RawResultSchema,
  type D1RawResult,
  D1RestoreSchema,
  type D1Restore,
} from "./schemas-data.ts";

export type D1LocationHint = "weur" | "eeur" | "apac" | "oc" | "wnam" | "enam";
export type D1Jurisdiction = "eu" | "fedramp" | "us";

export type D1CreateOptions = {
  primaryLocationHint?: D1LocationHint;
  /** With a jurisdiction the location hint is moot (wrangler's help). */
  jurisdiction?: D1Jurisdiction;
};

/** One statement with its `?` / `?NNN` parameters. */
export type D1Statement = { sql: string; params?: unknown[] };

/**
 * What `/query` and `/raw` run: SQL text (several statements allowed, split server-side), one
 * statement with parameters, or a batch of them. All of it runs in one transaction.
 */
export type D1Query = string | D1Statement | D1Statement[];

export function d1QueryBody(query: D1Query): Record<string, unknown> {
  const one = (s: D1Statement) => ({ sql: s.sql, ...(s.params === undefined ? {} : { params: s.params }) });
  if (typeof query === "string") return { sql: query };
  if (Array.isArray(query)) return { batch: query.map(one) };
  return one(query);
}

export function createD1Api(ctx: ApiContext) {
  const base = async () => `/accounts/${seg(await ctx.accountId())}/d1/database`;
  const dbPath = async (idOrName: string) => `${await base()}/${seg(idOrName)}`;

  return {
    /** Every database of the account (paged to the empty page); `name` filters on the exact name. */
    async listD1Databases(opts: { name?: string } = {}): Promise<D1Database[]> {
      return ctx.list(await base(), D1DatabaseSchema, { paging: "pages", query: { name: opts.name }, endpoint: "d1.databases.list" });
    },

    /** By uuid or by name (the API takes either); null when there is no such database (7404). */
    async getD1Database(idOrName: string): Promise<D1Database | null> {
      return nullIfMissing(
        ctx.json("GET", await dbPath(idOrName), D1DatabaseSchema, { endpoint: "d1.databases.get" }),
        CF_ERROR.D1_NOT_FOUND,
      );
    },

    /** A name already taken is refused with 7502. Options left out are not sent. */
    async createD1Database(name: string, opts: D1CreateOptions = {}): Promise<D1Database> {
      const body = {
        name,
        ...(opts.primaryLocationHint === undefined ? {} : { primary_location_hint: opts.primaryLocationHint }),
        ...(opts.jurisdiction === undefined ? {} : { jurisdiction: opts.jurisdiction }),
      };
      return ctx.json("POST", await base(), D1DatabaseSchema, { endpoint: "d1.databases.create", body });
    },

    /** A missing database is refused with 7404 (HTTP 404). */
    async deleteD1Database(databaseId: string): Promise<void> {
      await ctx.json("DELETE", await dbPath(databaseId), z.unknown(), { endpoint: "d1.databases.delete" });
    },

    /** Rows as objects, one result per statement. A SQL error is refused (the local edge: 7500). */
    async queryD1(databaseId: string, query: D1Query): Promise<D1QueryResult[]> {
      return ctx.json("POST", `${await dbPath(databaseId)}/query`, z.array(D1QueryResultSchema), {
        endpoint: "d1.query",
        body: d1QueryBody(query),
      });
    },

    /** Rows as arrays with the column names apart, one result per statement. */
    async rawD1(databaseId: string, query: D1Query): Promise<D1RawResult[]> {
      return ctx.json("POST", `${await dbPath(databaseId)}/raw`, z.array(D1RawResultSchema), {
        endpoint: "d1.raw",
        body: d1QueryBody(query),
      });
    },

    /**
     * The Time Travel bookmark of a moment (default: now). Bookmarks sort as time does; one taken
     * before a change is what `restoreD1` needs to undo it.
     */
    async getD1Bookmark(databaseId: string, opts: { at?: Date | string } = {}): Promise<string> {
      const at = opts.at === undefined ? undefined : new Date(opts.at);
      if (at !== undefined && Number.isNaN(at.getTime()))
        throw new CboError("ERR_VALIDATION", `"${String(opts.at)}" is not a moment in time: give a Date or an ISO 8601 string.`);
      const timestamp = at?.toISOString();
      const answer = await ctx.json("GET", `${await dbPath(databaseId)}/time_travel/bookmark`, D1BookmarkSchema, {
        endpoint: "d1.time-travel.bookmark",
        query: { timestamp },
        headers: { "content-type": "application/json" },
      });
      return answer.bookmark;
    },

    /** Restores the database to a bookmark; `previous_bookmark` undoes the restore. */
    async restoreD1(databaseId: string, bookmark: string): Promise<D1Restore> {
      return ctx.json("POST", `${await dbPath(databaseId)}/time_travel/restore`, D1RestoreSchema, {
        endpoint: "d1.time-travel.restore",
        // Sent twice, a restore whose answer was lost would answer a previous_bookmark that undoes nothing.
        once: true,
        query: { bookmark },
        headers: { "content-type": "application/json" },
      });
    },
  };
}
