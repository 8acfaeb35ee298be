// One binding of every kind the upload metadata may carry, in the shape wrangler sends it
// (CLOUDFLARE-API-FLEET §7). Resource ids are placeholders: tests that upload these to a local
// edge replace the ones the edge checks (KV).
export type AnyBinding = { type: string; name: string; [key: string]: unknown };

/** Every binding kind in the shape wrangler sends it (CLOUDFLARE-API-FLEET §7). */
export const EVERY_KIND: AnyBinding[] = [
  { type: "plain_text", name: "A", text: "s" },
  { type: "json", name: "B", json: { x: 1 } },
  { type: "secret_text", name: "C", text: "shh" },
  { type: "kv_namespace", name: "KV", namespace_id: "0".repeat(32) },
  { type: "service", name: "SVC", service: "other", entrypoint: "Admin", props: { a: 1 } },
  { type: "d1", name: "DB", id: "11111111-2222-3333-4444-555555555555" },
  { type: "r2_bucket", name: "R2", bucket_name: "exports", jurisdiction: "eu" },
  { type: "queue", name: "Q", queue_name: "conversions", delivery_delay: 5 },
  { type: "durable_object_namespace", name: "DO", class_name: "Counter", script_name: "other" },
  { type: "analytics_engine", name: "AE", dataset: "events" },
  { type: "ai", name: "AI", staging: false },
  { type: "browser", name: "BROWSER" },
  { type: "hyperdrive", name: "HD", id: "abc" },
  { type: "vectorize", name: "VEC", index_name: "idx" },
  { type: "ratelimit", name: "RL", namespace_id: "1001", simple: { limit: 100, period: 60 } },
  { type: "secrets_store_secret", name: "SS", store_id: "s", secret_name: "n" },
  { type: "workflow", name: "WF", workflow_name: "wf", class_name: "Flow" },
  { type: "dispatch_namespace", name: "DN", namespace: "tenants", outbound: { worker: { service: "out" } } },
  { type: "version_metadata", name: "VM" },
  { type: "assets", name: "ASSETS" },
  { type: "mtls_certificate", name: "CERT", certificate_id: "c" },
  { type: "send_email", name: "MAIL", destination_address: "a@example.com" },
  { type: "pipelines", name: "PIPE", pipeline: "p" },
  { type: "worker_loader", name: "LOADER" },
  { type: "images", name: "IMAGES" },
  { type: "stream", name: "STREAM" },
  { type: "media", name: "MEDIA" },
  { type: "vpc_service", name: "VPC", service_id: "v" },
];
