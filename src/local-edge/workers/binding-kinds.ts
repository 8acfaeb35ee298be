// Binding kinds of the upload metadata by what the local edge does with them. Shared by the API
// (what it accepts) and the router (what a loaded Worker gets), so the two cannot drift.

/**
 * Kinds the local edge accepts but cannot run: the Worker gets a binding whose every use throws
 * an error naming the product, so a Worker fails clearly at the line that needs it.
 */
export const UNAVAILABLE_KINDS: Record<string, string> = {
  ai: "Workers AI",
  browser: "Browser Rendering",
  hyperdrive: "Hyperdrive",
  vectorize: "Vectorize",
  secrets_store_secret: "Secrets Store",
  secret_key: "secret_key (CryptoKey) bindings",
  workflow: "Workflows",
  dispatch_namespace: "Workers for Platforms dispatch namespaces",
  mtls_certificate: "mTLS certificates",
  send_email: "Email Routing (send_email)",
  pipelines: "Pipelines",
  worker_loader: "Worker Loader bindings",
  images: "Images",
  stream: "Stream",
  media: "Media Transformations",
  vpc_service: "Workers VPC",
  vpc_network: "Workers VPC",
};

/** Old service-worker bindings that reference a form part; ES-module Workers use module parts instead. */
export const SERVICE_WORKER_ONLY_KINDS = new Set(["wasm_module", "text_blob", "data_blob"]);
