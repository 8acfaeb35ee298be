// The example fleet's code as a project of its own, the way a user has it: its Workers (each a
// wrangler project: wrangler.jsonc, sources, migrations, assets) copied into
// `dir`, and a node_modules where its dependencies (hono, zod) and the orchestrator's edge library
// (clawdbot-orchestrator/edge) are installed (linked to this checkout's). A Worker's bundle reads
// only its project and installed packages (src/deploy/confine.ts), so tests cannot point `main:`
// at the repository's examples/ from a temporary orchestrator.yaml.
import { cpSync, mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const REPO = fileURLToPath(new URL("../../", import.meta.url));

export function writeExampleProject(dir: string, workers: string[] = ["ads-api", "ads-attribution", "ads-conversions"]): void {
  for (const w of workers) cpSync(join(REPO, "examples", w), join(dir, w), { recursive: true });
  mkdirSync(join(dir, "node_modules"), { recursive: true });
  for (const pkg of ["hono", "zod"]) symlinkSync(join(REPO, "node_modules", pkg), join(dir, "node_modules", pkg));
  symlinkSync(REPO, join(dir, "node_modules", "clawdbot-orchestrator"));
}
