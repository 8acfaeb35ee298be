// The stores of what a Worker is besides its code and KV: Durable Object namespaces, version
// extras (migrations, settings, assets), asset blobs, routes/domains/zones, Analytics Engine.
import type { EdgeDb } from "./db.ts";
import { createDoStore } from "./durable-objects.ts";
import { createVersionExtrasStore } from "./version-extras.ts";
import { createAssetStore } from "./assets.ts";
import { createRouteStore } from "./routes.ts";
import { createAnalyticsEngineStore } from "./analytics-engine.ts";

export function createWorkerStores(db: EdgeDb) {
  return {
    dos: createDoStore(db),
    extras: createVersionExtrasStore(db),
    assets: createAssetStore(db),
    routes: createRouteStore(db),
    ae: createAnalyticsEngineStore(db),
  };
}
export type WorkerStores = ReturnType<typeof createWorkerStores>;
