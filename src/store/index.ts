// The store: one SQLite file, one small module per table or aggregate.
import { openDb, type Db } from "./db.ts";
import { createAgentStore } from "./agents.ts";
import { createCatalogStore } from "./catalog.ts";
import { createDriftStore } from "./drift.ts";
import { createConfigSyncStore } from "./config-sync.ts";
import { createEventStore } from "./events.ts";
import { createHealthStore } from "./health.ts";
import { createReleaseStore } from "./releases.ts";
import { createTokenStore } from "./tokens.ts";

export function createStore(file: string) {
  const db: Db = openDb(file);
  return {
    db,
    catalog: createCatalogStore(db),
    releases: createReleaseStore(db),
    events: createEventStore(db),
    health: createHealthStore(db),
    drift: createDriftStore(db),
    tokens: createTokenStore(db),
    configs: createConfigSyncStore(db),
    agents: createAgentStore(db),
    close: () => db.close(),
  };
}
export type Store = ReturnType<typeof createStore>;
export type { StoredEvent, EventType, NewEvent } from "./events.ts";
export type { Release, ReleaseStatus, JournalEntry } from "./releases.ts";
export type { Role, TokenRow } from "./tokens.ts";
export type { HealthRow, HealthStatus } from "./health.ts";
export type { TargetRow, WorkerRow, VersionRow } from "./catalog.ts";
export type { DriftRow, DriftStatus, DriftKey } from "./drift.ts";
export type { ConfigVersionRow, ConfigTargetRow } from "./config-sync.ts";
export type { AgentIsolateRow } from "./agents.ts";
