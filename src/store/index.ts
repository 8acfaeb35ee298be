// The store: one SQLite file, one small module per table or aggregate.
import { existsSync, statSync } from "node:fs";
import { openDb, type Db } from "./db.ts";
import { createStorage, type StorageOptions } from "./storage.ts";
import { createAgentStore } from "./agents.ts";
import { createCatalogStore } from "./catalog.ts";
import { createDriftStore } from "./drift.ts";
import { createConfigSyncStore } from "./config-sync.ts";
import { createEventStore } from "./events.ts";
import { createHealthStore } from "./health.ts";
import { createIdempotencyStore } from "./idempotency.ts";
import { createReleaseStore } from "./releases.ts";
import { createReleaseHoldStore } from "./release-holds.ts";
import { createTargetResourceStore } from "./target-resources.ts";
import { createTokenStore } from "./tokens.ts";

export type StoreOptions = {
  /** quick_check the file when it opens (the daemon does, at start). */
  check?: boolean;
  /** How a full disk is waited out (storage.ts). */
  storage?: Pick<StorageOptions, "headroomBytes" | "probeMs" | "log">;
};

export function createStore(file: string, opts: StoreOptions = {}) {
  const walAtOpen = file === ":memory:" || !existsSync(`${file}-wal`) ? 0 : statSync(`${file}-wal`).size;
  const db: Db = openDb(file, { ...(opts.check ? { check: true } : {}) });
  const storage = createStorage({ db, file, walAtOpen, ...opts.storage });
  return {
    db,
    /** The disk under the file: storage errors named, writers paused while it is full. */
    storage,
    catalog: createCatalogStore(db),
    releases: createReleaseStore(db),
    /** Pauses, approvals and timed pauses of running releases: they outlive a restart. */
    holds: createReleaseHoldStore(db),
    events: createEventStore(db),
    health: createHealthStore(db),
    drift: createDriftStore(db),
    tokens: createTokenStore(db),
    configs: createConfigSyncStore(db),
    agents: createAgentStore(db),
    idempotency: createIdempotencyStore(db),
    resources: createTargetResourceStore(db),
    close: () => {
      storage.close();
      db.close();
    },
  };
}
export type Store = ReturnType<typeof createStore>;
export type { Storage, StorageState } from "./storage.ts";
export type { StoredEvent, EventType, NewEvent } from "./events.ts";
export type { Release, ReleaseStatus, JournalEntry } from "./releases.ts";
export type { ReleaseHold } from "./release-holds.ts";
export type { Role, TokenRow } from "./tokens.ts";
export type { HealthRow, HealthStatus } from "./health.ts";
export type { TargetRow, WorkerRow, VersionRow, VersionFacts } from "./catalog.ts";
export type { DriftRow, DriftStatus, DriftKey } from "./drift.ts";
export type { ConfigVersionRow, ConfigTargetRow } from "./config-sync.ts";
export type { AgentIsolateRow } from "./agents.ts";
export type { IdempotencyRow } from "./idempotency.ts";
export type { TargetResourceRow } from "./target-resources.ts";
