// Our Cloudflare client pointed at a test edge's region, recording the endpoint class of every
// request it makes, and failure helpers for asserting Cloudflare codes on CboErrors.
import { expect } from "vitest";
import { createRequestBudget } from "../../src/cloudflare/budget.ts";
import { createCloudflareClient, type CloudflareClient } from "../../src/cloudflare/client.ts";
import { UNCLASSIFIED } from "../../src/cloudflare/transport.ts";
import { CboError } from "../../src/kit/errors.ts";
import type { TestEdge } from "./edge.ts";

export type RecordingClient = {
  cf: CloudflareClient;
  /** The endpoint class of every attempt, in order. */
  endpoints: string[];
};

export function recordingClient(t: TestEdge, region = t.region, opts: { maxRetries?: number } = {}): RecordingClient {
  const endpoints: string[] = [];
  const cf = createCloudflareClient({
    ...opts,
    baseUrl: t.edge.apiUrl,
    apiToken: t.edge.token,
    accountId: region.accountId,
    budget: createRequestBudget(),
    baseDelayMs: 5,
    maxDelayMs: 50,
    onRequest: (i) => endpoints.push(i.endpoint),
  });
  return { cf, endpoints };
}

/** Every request was classified, and the classes are the stable names expected of these calls. */
export function expectClassified(endpoints: string[], expected: string[]): void {
  expect(endpoints.length).toBeGreaterThan(0);
  expect(endpoints.filter((e) => e === UNCLASSIFIED)).toEqual([]);
  expect([...new Set(endpoints)].sort()).toEqual([...new Set(expected)].sort());
}

/** The CboError a call fails with. */
export async function failure(p: Promise<unknown>): Promise<CboError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(CboError);
  return e as CboError;
}

/** What a failed call says: our code, retryable, HTTP status and Cloudflare's first code. */
export function summary(e: CboError): { code: string; retryable: boolean; status: unknown; cf: number | undefined } {
  const items = (e.details?.cloudflareErrors as Array<{ code: number }> | undefined) ?? [];
  return { code: e.code, retryable: e.retryable, status: e.details?.status, cf: items[0]?.code };
}
