// cloudflared's configuration file and command line for our tunnel (pure). The tunnel is remotely
// managed: Cloudflare holds the ingress (`cbo tunnel config` re-applies it) and pushes it to the
// connector; the file repeats it so that it can be read, diffed, and used for a locally-managed run.
// The connector token never appears in either: cloudflared reads it from the 0600 token file
// (`--token-file`), so it is not visible in `ps` or in this file.
import { stringify } from "yaml";
import type { IngressRule } from "./types.ts";

export function cloudflaredConfigYaml(o: { tunnelId: string; ingress: IngressRule[]; tokenFile: string }): string {
  const header = [
    "# cloudflared configuration for the Clawdbot Orchestrator daemon, written by `cbo tunnel create`",
    "# (and rewritten by `cbo tunnel config --apply`). The tunnel is remotely managed: Cloudflare holds",
    "# the ingress below and pushes it to cloudflared. The daemon runs, when cloudflared is installed:",
    `#   cloudflared ${cloudflaredArgs({ configFile: "<this file>", tokenFile: o.tokenFile }).join(" ")}`,
    "",
  ].join("\n");
  const body = stringify({
    tunnel: o.tunnelId,
    "no-autoupdate": true,
    ingress: o.ingress.map((r) => ({
      ...(r.hostname ? { hostname: r.hostname } : {}),
      ...(r.path ? { path: r.path } : {}),
      service: r.service,
    })),
  });
  return header + body;
}

/** `cloudflared tunnel --no-autoupdate --config <file> run --token-file <file>`, minus the binary. */
export function cloudflaredArgs(o: { configFile: string; tokenFile: string }): string[] {
  // Updates come from the package manager or image, not from cloudflared replacing itself under us.
  return ["tunnel", "--no-autoupdate", "--config", o.configFile, "run", "--token-file", o.tokenFile];
}
