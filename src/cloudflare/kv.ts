// Workers KV: namespaces, single values (raw bytes, not JSON) and bulk writes/deletes.
import * as z from "zod";
import type { ApiContext } from "./context.ts";
import { cloudflareErrorsOf } from "./errors.ts";
import { KvKeySchema, type KvKey, KvNamespaceSchema, type KvNamespace } from "./schemas.ts";
import { toBlobPart } from "./upload.ts";

export type KvValue = string | Uint8Array | ArrayBuffer;

export type KvWriteOptions = {
  /** Stored beside the value; sends the write as multipart (`value` + `metadata`). */
  metadata?: unknown;
  /** Seconds from now (at least 60 on Cloudflare). */
  expirationTtl?: number;
  /** Absolute expiry, seconds since the epoch. */
  expiration?: number;
};

export type KvBulkEntry = {
  key: string;
  value: string;
  /** The value is base64 of the bytes to store. */
  base64?: boolean;
  expiration?: number;
  expirationTtl?: number;
  metadata?: unknown;
};

/** Cloudflare's code for a key that does not exist. */
export const KV_KEY_NOT_FOUND = 10009;

export function createKvApi(ctx: ApiContext) {
  const account = () => ctx.accountId();
  const namespacesPath = async () => `/accounts/${encodeURIComponent(await account())}/storage/kv/namespaces`;
  const nsPath = async (namespaceId: string) => `${await namespacesPath()}/${encodeURIComponent(namespaceId)}`;
  const valuePath = async (namespaceId: string, key: string) => `${await nsPath(namespaceId)}/values/${encodeURIComponent(key)}`;

  const api = {
    /** A duplicate title is refused with code 10014. */
    async createKvNamespace(title: string): Promise<KvNamespace> {
      return ctx.json("POST", await namespacesPath(), KvNamespaceSchema, { endpoint: "kv.namespaces.create", body: { title } });
    },

    /** Every namespace: pages to the empty page, as wrangler does. */
    async listKvNamespaces(): Promise<KvNamespace[]> {
      return ctx.list(await namespacesPath(), KvNamespaceSchema, { paging: "pages", endpoint: "kv.namespaces.list" });
    },

    async deleteKvNamespace(namespaceId: string): Promise<void> {
      await ctx.json("DELETE", await nsPath(namespaceId), z.unknown(), { endpoint: "kv.namespaces.delete" });
    },

    /** The body is the value itself; with metadata, multipart (`value` + `metadata` as JSON). */
    async putKvValue(namespaceId: string, key: string, value: KvValue, opts: KvWriteOptions = {}): Promise<void> {
      const query = { expiration_ttl: opts.expirationTtl, expiration: opts.expiration };
      if (opts.metadata === undefined) {
        const type = typeof value === "string" ? "text/plain;charset=UTF-8" : "application/octet-stream";
        await ctx.json("PUT", await valuePath(namespaceId, key), z.unknown(), {
          endpoint: "kv.values.put",
          query,
          body: toBlobPart(value),
          headers: { "content-type": type },
        });
        return;
      }
      const form = new FormData();
      form.set("value", typeof value === "string" ? value : new Blob([toBlobPart(value)]));
      form.set("metadata", JSON.stringify(opts.metadata));
      await ctx.json("PUT", await valuePath(namespaceId, key), z.unknown(), { endpoint: "kv.values.put", query, body: form });
    },

    /** The stored bytes, or null for a missing key (the answer is the value, not an envelope). */
    async getKvValue(namespaceId: string, key: string): Promise<Uint8Array | null> {
      const path = await valuePath(namespaceId, key);
      const response = await ctx.raw("GET", path, { endpoint: "kv.values.get", headers: { accept: "*/*" } });
      if (response.ok) return new Uint8Array(await response.arrayBuffer());
      if (response.status === 404) {
        const text = await response
          .clone()
          .text()
          .catch(() => "");
        const codes = cloudflareErrorsOf(safeJson(text)).map((e) => e.code);
        if (codes.length === 0 || codes.includes(KV_KEY_NOT_FOUND)) return null;
      }
      throw await ctx.failure(response, "GET", path);
    },

    /** `getKvValue` decoded as UTF-8. */
    async getKvText(namespaceId: string, key: string): Promise<string | null> {
      const bytes = await api.getKvValue(namespaceId, key);
      return bytes === null ? null : new TextDecoder().decode(bytes);
    },

    /** Every key (optionally under a prefix), following `result_info.cursor` to the end. */
    async listKvKeys(namespaceId: string, opts: { prefix?: string } = {}): Promise<KvKey[]> {
      return ctx.list(`${await nsPath(namespaceId)}/keys`, KvKeySchema, {
        paging: "cursor",
        query: { prefix: opts.prefix },
        endpoint: "kv.keys.list",
      });
    },

    /** Same key encoding as put/get. */
    async deleteKvValue(namespaceId: string, key: string): Promise<void> {
      await ctx.json("DELETE", await valuePath(namespaceId, key), z.unknown(), { endpoint: "kv.values.delete" });
    },

    /** Up to 10,000 writes in one request (a JSON array). */
    async bulkPutKv(namespaceId: string, entries: KvBulkEntry[]): Promise<void> {
      const body = entries.map((e) => ({
        key: e.key,
        value: e.value,
        ...(e.base64 === undefined ? {} : { base64: e.base64 }),
        ...(e.expiration === undefined ? {} : { expiration: e.expiration }),
        ...(e.expirationTtl === undefined ? {} : { expiration_ttl: e.expirationTtl }),
        ...(e.metadata === undefined ? {} : { metadata: e.metadata }),
      }));
      await ctx.json("PUT", `${await nsPath(namespaceId)}/bulk`, z.unknown(), { endpoint: "kv.bulk.put", body });
    },

    /** Up to 10,000 deletes in one request (a JSON array of keys). */
    async bulkDeleteKv(namespaceId: string, keys: string[]): Promise<void> {
      await ctx.json("POST", `${await nsPath(namespaceId)}/bulk/delete`, z.unknown(), { endpoint: "kv.bulk.delete", body: keys });
    },
  };
  return api;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
