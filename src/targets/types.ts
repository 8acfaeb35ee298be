// The target port: what one target (a region or account the orchestrator releases to) is to the
// rest of the daemon. The engine, the monitor, config sync, setup and the API use targets through
// these types only; building them from the spec is build.ts, reading what they serve live-read.ts,
// calling their Workers over HTTP worker-http.ts.
import type { CloudflareClient } from "../cloudflare/index.ts";

/** Where one target's Workers are reached over HTTP: the URL, and the Host header that picks the Worker. */
export type Endpoint = { url: string; host?: string };

/** One target as the engine drives it: a Cloudflare client bound to the target's account. */
export type TargetRuntime = {
  name: string;
  accountId: string;
  client: CloudflareClient;
  /** Whose token its client sends, for messages (never the token): "CLOUDFLARE_API_TOKEN", "vault secret CF_TOKEN_EU", "the local edge". */
  tokenSource?: string;
  /** A target with its own token (`api_token_secret`): the vault secret's name, and whether it was set when built. */
  tokenSecret?: { name: string; set: boolean };
  /** e.g. `{url: "http://127.0.0.1:8781/", host: "hello.localhost"}` on the local edge. */
  endpoint(worker: string): Endpoint;
  /**
   * A Worker reached by a hostname of its own (a custom domain or a route's host), for Workers
   * with workers.dev turned off (worker-endpoint.ts); absent: such Workers are probed on workers.dev.
   */
  hostEndpoint?(host: string): Endpoint;
};

/** Versions and their traffic shares, as a deployment lists them. */
export type Split = Array<{ versionId: string; percentage: number }>;

/** What a target runs now, read from the edge (not from our records). */
export type ObservedTarget = {
  target: string;
  /** Live deployment, newest first as the API returns it; empty when the Worker is not deployed. */
  deployment: Split;
  /** Versions known on the edge for this Worker, newest first (up to 100). */
  versions: string[];
  /** KV namespace titles in the target's account, when they were read (for the API-call estimate). */
  kvNamespaces?: string[];
};
