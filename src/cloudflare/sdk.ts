// The official SDK, imported on first use. Loading it costs about 46 MiB of memory, which a daemon
// that only polls through raw calls (deployments, KV values, uploads) never needs to pay.
import type Cloudflare from "cloudflare";

type SdkModule = typeof import("cloudflare");
let loading: Promise<SdkModule> | undefined;
let loaded: SdkModule | undefined;

export function loadSdk(): Promise<SdkModule> {
  loading ??= import("cloudflare").then((m) => (loaded = m));
  return loading;
}

/** The SDK's classes if it has been loaded (it has, whenever one of its errors is in hand). */
export function loadedSdk(): SdkModule | undefined {
  return loaded;
}

/** One SDK client per client, created on the first SDK call. */
export function lazySdk(options: ConstructorParameters<typeof Cloudflare>[0]): () => Promise<Cloudflare> {
  let client: Promise<Cloudflare> | undefined;
  return () => (client ??= loadSdk().then((m) => new m.default(options)));
}
