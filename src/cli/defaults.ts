// Defaults shared by `cbo up`, `cbo daemon`, `cbo edge` and `cbo init`, in a module that imports
// nothing: `cbo daemon` reads them without loading the local edge (Miniflare, workerd), which a
// daemon on Cloudflare targets, or on a `cbo edge` running elsewhere, never needs.
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const EXAMPLE_SPEC = fileURLToPath(new URL("../../examples/orchestrator.yaml", import.meta.url));
export const DEFAULT_DATA = ".cbo";
export const DEFAULT_DAEMON_PORT = 8700;
export const DEFAULT_EDGE_DATA = ".cbo/edge";
export const DEFAULT_EDGE_PORT = 8780;

/** The local edge's ports: its API on `port`, each region on the ones right after it (all free ones for 0). */
export function edgePorts(port: number, regions: string[]): Array<{ port: number; what: string; flag: string }> {
  return [
    { port, what: "the local edge's API", flag: "--edge-port" },
    ...regions.map((r, i) => ({ port: port === 0 ? 0 : port + i + 1, what: `the local edge's region ${r}`, flag: "--edge-port" })),
  ];
}

/** orchestrator.yaml in the working directory if there is one, else the bundled example fleet. */
export function defaultConfig(): string {
  return existsSync("orchestrator.yaml") ? resolve("orchestrator.yaml") : EXAMPLE_SPEC;
}
