// The JSON shapes the API returns, as wrangler and the SDK read them (CLOUDFLARE-API §4).
// Secret values never leave through here: secret_text bindings lose their text.
import type { Account, Binding, Deployment, Script, Tunnel, Version } from "../state/model.ts";

export function publicBindings(bindings: Binding[]): Binding[] {
  return bindings.map((b) => (b.type === "secret_text" ? { type: b.type, name: b.name } : b));
}

/** What a version's JSON says beyond the version row: preview URL availability and its limits. */
export type VersionJsonExtras = { hasPreview?: boolean; limits?: Record<string, unknown>; startupMs?: number };

export function versionJson(v: Version, handlers: string[] = ["fetch"], more: VersionJsonExtras = {}): Record<string, unknown> {
  return {
    id: v.id,
    number: v.number,
    metadata: {
      author_email: v.author_email,
      author_id: "local-edge",
      created_on: v.created_on,
      modified_on: v.created_on,
      source: v.source,
      has_preview: more.hasPreview ?? false,
    },
    annotations: v.annotations,
    resources: {
      bindings: publicBindings(v.bindings),
      script: { etag: v.etag, handlers, last_deployed_from: "wrangler" },
      script_runtime: {
        compatibility_date: v.compatibility_date,
        compatibility_flags: v.compatibility_flags,
        usage_model: "standard",
        limits: { cpu_ms: 30000, ...(more.limits ?? {}) },
      },
    },
    startup_time_ms: more.startupMs ?? 1,
  };
}

export function deploymentJson(d: Deployment): Record<string, unknown> {
  return {
    id: d.id,
    source: d.source,
    strategy: "percentage",
    author_email: d.author_email,
    created_on: d.created_on,
    annotations: d.annotations,
    versions: d.versions,
  };
}

/** `handlers`: what the latest version's code exports (its startup probe found them), as Cloudflare lists them. */
export function scriptJson(
  s: Script,
  latest: Version | undefined,
  migrationTag?: string,
  handlers: string[] = ["fetch"],
): Record<string, unknown> {
  return {
    // wrangler reads the current Durable Object migration tag from here (4.86: the scripts list;
    // 4.1xx: the services GET's default_environment.script) to choose which migrations to send.
    ...(migrationTag !== undefined ? { migration_tag: migrationTag } : {}),
    id: s.name,
    tag: s.tag,
    etag: latest?.etag ?? s.tag,
    handlers,
    created_on: s.created_on,
    modified_on: s.modified_on,
    has_modules: true,
    usage_model: "standard",
    last_deployed_from: "wrangler",
    compatibility_date: latest?.compatibility_date,
    compatibility_flags: latest?.compatibility_flags ?? [],
    logpush: Boolean(s.settings.logpush),
    tail_consumers: s.settings.tail_consumers ?? [],
    placement: {},
  };
}

export function serviceJson(s: Script, latest: Version | undefined, migrationTag?: string, handlers?: string[]): Record<string, unknown> {
  const script = scriptJson(s, latest, migrationTag, handlers);
  return {
    id: s.name,
    default_environment: {
      environment: "production",
      script: { ...script, tags: s.settings.tags ?? [] },
      created_on: s.created_on,
      modified_on: s.modified_on,
    },
    created_on: s.created_on,
    modified_on: s.modified_on,
    environments: [{ environment: "production", created_on: s.created_on, modified_on: s.modified_on }],
  };
}

export function workerJson(s: Script, account: Account): Record<string, unknown> {
  return {
    id: s.tag,
    name: s.name,
    created_on: s.created_on,
    updated_on: s.modified_on,
    logpush: Boolean(s.settings.logpush),
    observability: s.settings.observability ?? { enabled: false },
    references: { dispatch_namespace_outbounds: [], domains: [], durable_objects: [], queues: [] },
    tags: s.settings.tags ?? [],
    tail_consumers: s.settings.tail_consumers ?? [],
    subdomain: {
      enabled: s.subdomain_enabled,
      previews_enabled: s.previews_enabled,
      url: `https://${s.name}.${account.subdomain}.workers.dev`,
      preview_url_suffix: `-${s.name}.${account.subdomain}.workers.dev`,
    },
  };
}

export function scriptSettingsJson(s: Script): Record<string, unknown> {
  return {
    logpush: Boolean(s.settings.logpush),
    tail_consumers: s.settings.tail_consumers ?? [],
    observability: s.settings.observability ?? { enabled: false },
    tags: s.settings.tags ?? [],
    ...(s.settings.streaming_tail_consumers !== undefined ? { streaming_tail_consumers: s.settings.streaming_tail_consumers } : {}),
  };
}

export function tunnelJson(t: Tunnel): Record<string, unknown> {
  return {
    id: t.id,
    account_tag: t.account_id,
    name: t.name,
    created_at: t.created_at,
    deleted_at: t.deleted_at,
    conns_active_at: null,
    conns_inactive_at: null,
    connections: [],
    status: "inactive",
    tun_type: "cfd_tunnel",
    remote_config: t.config_src === "cloudflare",
    config_src: t.config_src,
    metadata: {},
  };
}
