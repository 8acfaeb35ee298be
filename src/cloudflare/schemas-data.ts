// Response objects of the data resources a fleet release creates and binds: D1 databases, R2
// buckets, queues and their consumers, Durable Object namespaces (CLOUDFLARE-API-FLEET §1-§4).
// Loose like schemas.ts: only the fields named here are relied on.
import * as z from "zod";

export const D1DatabaseSchema = z.looseObject({
  uuid: z.string(),
  name: z.string(),
  version: z.string().nullish(),
  created_at: z.string().nullish(),
  jurisdiction: z.string().nullish(),
  num_tables: z.number().nullish(),
  file_size: z.number().nullish(),
  running_in_region: z.string().nullish(),
  /** Only in the create answer (not confirmed for the real API). */
  created_in_region: z.string().nullish(),
  read_replication: z.looseObject({ mode: z.string() }).nullish(),
});
export type D1Database = z.infer<typeof D1DatabaseSchema>;

const D1Meta = z.looseObject({
  duration: z.number().nullish(),
  changes: z.number().nullish(),
  last_row_id: z.number().nullish(),
  changed_db: z.boolean().nullish(),
  size_after: z.number().nullish(),
  rows_read: z.number().nullish(),
  rows_written: z.number().nullish(),
});

/** One statement's result of `/query`: rows as objects. */
export const D1QueryResultSchema = z.looseObject({
  results: z.array(z.record(z.string(), z.unknown())),
  success: z.boolean(),
  meta: D1Meta.nullish(),
});
export type D1QueryResult = z.infer<typeof D1QueryResultSchema>;

/** One statement's result of `/raw`: column names and rows as arrays. */
export const D1RawResultSchema = z.looseObject({
  results: z.looseObject({ columns: z.array(z.string()), rows: z.array(z.array(z.unknown())) }),
  success: z.boolean(),
  meta: D1Meta.nullish(),
});
export type D1RawResult = z.infer<typeof D1RawResultSchema>;

export const D1BookmarkSchema = z.looseObject({ bookmark: z.string() });

export const D1RestoreSchema = z.looseObject({
  bookmark: z.string(),
  previous_bookmark: z.string().nullish(),
  message: z.string().nullish(),
});
export type D1Restore = z.infer<typeof D1RestoreSchema>;

export const R2BucketSchema = z.looseObject({
  name: z.string(),
  creation_date: z.string().nullish(),
  location: z.string().nullish(),
  storage_class: z.string().nullish(),
  jurisdiction: z.string().nullish(),
});
export type R2Bucket = z.infer<typeof R2BucketSchema>;

export const R2BucketListSchema = z.looseObject({ buckets: z.array(R2BucketSchema) });

export const QueueConsumerSettingsSchema = z.looseObject({
  batch_size: z.number().nullish(),
  max_retries: z.number().nullish(),
  max_wait_time_ms: z.number().nullish(),
  max_concurrency: z.number().nullish(),
  retry_delay: z.number().nullish(),
  visibility_timeout_ms: z.number().nullish(),
});

export const QueueConsumerSchema = z.looseObject({
  consumer_id: z.string(),
  type: z.string().nullish(),
  /** The consuming Worker (`script_name` in request bodies). */
  script: z.string().nullish(),
  script_name: z.string().nullish(),
  service: z.string().nullish(),
  environment: z.string().nullish(),
  queue_name: z.string().nullish(),
  dead_letter_queue: z.string().nullish(),
  settings: QueueConsumerSettingsSchema.nullish(),
  created_on: z.string().nullish(),
});
export type QueueConsumer = z.infer<typeof QueueConsumerSchema>;

export const QueueSchema = z.looseObject({
  queue_id: z.string(),
  queue_name: z.string(),
  created_on: z.string().nullish(),
  modified_on: z.string().nullish(),
  producers: z.array(z.looseObject({ type: z.string().nullish(), script: z.string().nullish() })).nullish(),
  consumers: z.array(QueueConsumerSchema).nullish(),
  settings: z
    .looseObject({
      delivery_delay: z.number().nullish(),
      delivery_paused: z.boolean().nullish(),
      message_retention_period: z.number().nullish(),
    })
    .nullish(),
});
export type Queue = z.infer<typeof QueueSchema>;

export const DurableObjectNamespaceSchema = z.looseObject({
  id: z.string(),
  name: z.string().nullish(),
  script: z.string().nullish(),
  class: z.string().nullish(),
  use_sqlite: z.boolean().nullish(),
});
export type DurableObjectNamespace = z.infer<typeof DurableObjectNamespaceSchema>;

/** `GET /workers/services/:name`: what wrangler reads the migration tag (and tags) from. */
export const WorkerServiceSchema = z.looseObject({
  id: z.string(),
  default_environment: z.looseObject({
    environment: z.string().nullish(),
    script: z.looseObject({
      migration_tag: z.string().nullish(),
      tag: z.string().nullish(),
      tags: z.array(z.string()).nullish(),
      etag: z.string().nullish(),
      last_deployed_from: z.string().nullish(),
    }),
  }),
});
export type WorkerService = z.infer<typeof WorkerServiceSchema>;
