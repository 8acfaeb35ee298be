// The filters of a tail session, as wrangler sends them in the body of POST …/tails
// (workers-sdk packages/wrangler/src/tail/filters.ts): each item holds one kind of filter, and an
// event must pass all of them.
import * as z from "zod";
import type { TraceItem } from "./trace.ts";

export const TailFilterSchema = z.union([
  z.object({ sampling_rate: z.number().gt(0).max(1) }).strict(),
  z.object({ outcome: z.array(z.string()) }).strict(),
  z.object({ method: z.array(z.string()) }).strict(),
  z.object({ header: z.object({ key: z.string().min(1), query: z.string().optional() }).strict() }).strict(),
  z.object({ client_ip: z.array(z.string()) }).strict(),
  z.object({ query: z.string() }).strict(),
  z.object({ scriptVersion: z.string().min(1) }).strict(),
]);
export type TailFilter = z.infer<typeof TailFilterSchema>;

export const TailCreateSchema = z.object({ filters: z.array(TailFilterSchema).max(50).default([]) }).strict();

const sameVersion = (a: string, b: string) => a.replaceAll("-", "").toLowerCase() === b.replaceAll("-", "").toLowerCase();

/** Every invocation on the local edge comes over loopback unless a proxy in front says otherwise. */
export function clientIpOf(item: TraceItem): string {
  const headers = item.event?.request?.headers ?? {};
  return headers["cf-connecting-ip"] ?? "127.0.0.1";
}

const textOf = (parts: unknown[]) => parts.map((p) => (typeof p === "string" ? p : JSON.stringify(p))).join(" ");

export type FilterContext = { versionId: string; clientIp: string; random: () => number };

/** Does the event pass the filter? `self` as a client IP is the tail client's own address. */
export function passes(f: TailFilter, item: TraceItem, ctx: FilterContext): boolean {
  if ("sampling_rate" in f) return ctx.random() < f.sampling_rate;
  if ("outcome" in f) return f.outcome.includes(item.outcome);
  if ("method" in f) {
    const m = item.event?.request?.method?.toUpperCase();
    return m !== undefined && f.method.some((x) => x.toUpperCase() === m);
  }
  if ("header" in f) {
    const headers = item.event?.request?.headers ?? {};
    const value = headers[f.header.key.toLowerCase()];
    return value !== undefined && (f.header.query === undefined || value === f.header.query);
  }
  if ("client_ip" in f) {
    const ip = clientIpOf(item);
    return f.client_ip.some((x) => (x === "self" ? ctx.clientIp : x) === ip);
  }
  if ("query" in f) {
    return (
      item.logs.some((l) => textOf(l.message).includes(f.query)) ||
      item.exceptions.some((e) => `${e.name}: ${textOf([e.message])}`.includes(f.query))
    );
  }
  return sameVersion(f.scriptVersion, ctx.versionId);
}
