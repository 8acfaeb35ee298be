// What the architecture picture says of the tunnel (GET /v1/tunnel/status), in its box's two lines.
// A tunnel on the local edge needs no cloudflared and has no connections: the edge itself routes
// its hostnames to the daemon, so it works, and the box says so rather than showing it down.
import type { TunnelStatus } from "../contract/index.ts";

export type TunnelView = { state: "up" | "down" | "none"; line: string; host: string };

/** Characters the box's line holds. */
const LINE_MAX = 38;

/** `text` cut at a word to fit the box's line, marked with an ellipsis when cut. */
export function fitLine(text: string, max = LINE_MAX): string {
  if (text.length <= max) return text;
  const cut = text.lastIndexOf(" ", max - 1);
  return `${text.slice(0, cut > 0 ? cut : max - 1).replace(/[,;:]$/, "")}…`;
}

export function tunnelView(t: TunnelStatus): TunnelView {
  if (!t.configured) return { state: "none", line: "none configured", host: "" };
  const host = t.tunnel?.hostname ?? "";
  if (t.tunnel?.local) return { state: "up", line: "routed by the local edge", host };
  const proc = t.process?.state ?? "unknown";
  const remote = t.remote?.status ? `, edge ${t.remote.status} (${t.remote.connections ?? 0} conn.)` : "";
  const up = proc === "running" || t.remote?.status === "healthy";
  return { state: up ? "up" : "down", line: fitLine(`cloudflared ${proc}${remote}`), host };
}
