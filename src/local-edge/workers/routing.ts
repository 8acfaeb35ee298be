// Pure routing decisions of the router Worker, kept apart so that Node unit tests run them too.

export type Entry = { version_id: string; percentage: number };

/** `x.localhost[:port]`, `x.<subdomain>.workers.dev`, or the preview form `<8 hex>-x.<subdomain>.workers.dev`. */
export function scriptFromHost(host: string, subdomain: string): { script: string; preview?: string } | undefined {
  const h = host.toLowerCase().replace(/:\d+$/, "");
  let label: string | undefined;
  if (h.endsWith(".localhost")) label = h.slice(0, -".localhost".length).split(".").pop();
  else if (h.endsWith(`.${subdomain}.workers.dev`)) label = h.slice(0, -`.${subdomain}.workers.dev`.length);
  else if (h.endsWith(".workers.dev")) label = h.split(".")[0];
  if (!label || label.includes(".")) return undefined;
  const preview = /^([0-9a-f]{8})-(.+)$/.exec(label);
  return preview ? { script: preview[2]!, preview: preview[1]! } : { script: label };
}

/** `Cloudflare-Workers-Version-Overrides: my-worker="<version id>"` (a structured-header dictionary). */
export function overrideFor(header: string | null, script: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(",")) {
    const m = /^\s*([^=\s]+)\s*=\s*"([^"]*)"\s*$/.exec(part);
    if (m && m[1] === script) return m[2];
  }
  return undefined;
}

/** Weighted choice over a deployment's percentages; `random` in [0, 1). */
export function pickVersion(entries: Entry[], random: number): string {
  let r = random * 100;
  for (const e of entries) {
    r -= e.percentage;
    if (r < 0) return e.version_id;
  }
  return entries.filter((e) => e.percentage > 0).pop()?.version_id ?? entries[0]!.version_id;
}

/** Which version serves: a preview host's prefix, else an override naming a live version, else weighted. */
export function chooseVersion(entries: Entry[], opts: { preview?: string; override?: string; random: number }): string | undefined {
  if (opts.preview) return entries.find((e) => e.version_id.startsWith(opts.preview!))?.version_id;
  if (opts.override && entries.some((e) => e.version_id === opts.override)) return opts.override;
  return pickVersion(entries, opts.random);
}

/** A Workers route (`example.com/*`, `*.example.com/api/*`) compiled once per routing table. */
export type CompiledRoute = { script: string; host: RegExp; path: RegExp; rank: [number, number, number, number] };

const escapeRe = (s: string) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&");

/**
 * Cloudflare's route rules: a wildcard only leads the host and ends the path, the scheme and query
 * are ignored, and the most specific route wins: an exact host before a wildcard host, then the
 * longer host, then the longer path, then an exact path before a wildcard one.
 */
export function compileRoutes(routes: Array<{ pattern: string; script: string }>): CompiledRoute[] {
  const out: CompiledRoute[] = [];
  for (const r of routes) {
    const raw = r.pattern.replace(/^https?:\/\//i, "").split("?")[0]!;
    const slash = raw.indexOf("/");
    const host = (slash < 0 ? raw : raw.slice(0, slash)).toLowerCase();
    const path = slash < 0 ? "/" : raw.slice(slash);
    const hostRe = new RegExp(`^${host.startsWith("*") ? `(?:.*)${escapeRe(host.slice(1))}` : escapeRe(host)}$`);
    const pathRe = new RegExp(`^${path.endsWith("*") ? `${escapeRe(path.slice(0, -1))}.*` : escapeRe(path)}$`);
    out.push({
      script: r.script,
      host: hostRe,
      path: pathRe,
      rank: [host.startsWith("*") ? 0 : 1, host.length, path.length, path.endsWith("*") ? 0 : 1],
    });
  }
  return out.sort((a, b) => {
    for (let i = 0; i < 4; i++) if (a.rank[i] !== b.rank[i]) return b.rank[i]! - a.rank[i]!;
    return 0;
  });
}

export function matchRoute(routes: CompiledRoute[], host: string, pathname: string): string | undefined {
  const h = host.toLowerCase().replace(/:\d+$/, "");
  for (const r of routes) if (r.host.test(h) && r.path.test(pathname)) return r.script;
  return undefined;
}

/**
 * The version a Durable Object runs during a deployment: fixed per object (one version per object
 * at a time, as at Cloudflare), spread over the versions by the deployment's percentages.
 */
export function versionForObject(entries: Entry[], objectId: string): string {
  const r = parseInt(objectId.slice(0, 8), 16) / 0x1_0000_0000;
  return pickVersion(entries, Number.isFinite(r) ? r : 0);
}
