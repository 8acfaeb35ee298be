// Row shapes of the local edge's state, as the rest of the edge sees them.

export type Binding = { type: string; name: string; [key: string]: unknown };

export type ModuleType = "esm" | "cjs" | "text" | "data" | "wasm" | "json" | "sourcemap";

export type StoredModule = { name: string; type: ModuleType; content: Uint8Array };

export type Account = { id: string; name: string; region: string; subdomain: string; created_on: string };

export type Script = {
  account_id: string;
  name: string;
  tag: string;
  created_on: string;
  modified_on: string;
  settings: Record<string, unknown>;
  schedules: Array<{ cron: string; created_on?: string; modified_on?: string }>;
  subdomain_enabled: boolean;
  previews_enabled: boolean;
};

export type Version = {
  id: string;
  account_id: string;
  script: string;
  number: number;
  created_on: string;
  source: string;
  author_email: string;
  annotations: Record<string, string>;
  main_module: string;
  compatibility_date: string;
  compatibility_flags: string[];
  /** As uploaded, including secret_text values: never send these back over the API. */
  bindings: Binding[];
  etag: string;
};

export type DeploymentEntry = { version_id: string; percentage: number };

export type Deployment = {
  id: string;
  seq: number;
  account_id: string;
  script: string;
  created_on: string;
  source: string;
  author_email: string;
  annotations: Record<string, string>;
  versions: DeploymentEntry[];
};

export type KvNamespace = { id: string; account_id: string; title: string; created_on: string };

export type KvEntry = { key: string; value: Uint8Array; metadata: unknown; expiration: number | null };

export type Tunnel = {
  id: string;
  account_id: string;
  name: string;
  secret: string;
  config_src: string;
  created_at: string;
  deleted_at: string | null;
  config: unknown;
  config_version: number;
};
