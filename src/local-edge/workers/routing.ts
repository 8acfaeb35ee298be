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
