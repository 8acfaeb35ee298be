// The tunnel step. A tunnel is optional (the daemon works on loopback), so without the cloudflared
// binary the step is skipped with how to install it; with it, the step says how to create one.
// `cbo tunnel` (src/tunnel) does the work; this only looks.
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import { DEFAULT_FIXES } from "./steps.ts";
import type { StepOutcome } from "./wizard.ts";

/** The first executable `name` on PATH, if any. */
export function which(name: string, path = process.env.PATH ?? ""): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const file = join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

export type TunnelState = { configured: boolean; detail: string };

export function tunnelStep(o: { cloudflared: string | undefined; tunnel?: TunnelState | undefined }): StepOutcome {
  if (o.tunnel?.configured) return { status: "done", detail: o.tunnel.detail };
  if (!o.cloudflared) return { status: "skipped", detail: `optional, skipped: cloudflared is not installed. ${DEFAULT_FIXES.tunnel}` };
  return {
    status: "skipped",
    detail: `optional: cloudflared is at ${o.cloudflared}; run \`cbo tunnel create\` to reach the orchestrator from outside through Cloudflare Tunnel`,
  };
}
