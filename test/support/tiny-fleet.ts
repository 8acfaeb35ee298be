// The smallest fleet `cbo up` can release: one local region, one Worker answering "tiny", a gate
// that passes at once. The `cbo up` tests write it to their temp dir.
import { writeFileSync } from "node:fs";
import { join } from "node:path";

const SPEC = `version: 1
targets:
  - { name: eu, api: local }
rollout:
  steps: [100]
  gate: { probe_path: /, interval_ms: 50, bake_ms: 0, min_samples: 1 }
workers:
  - { name: tiny, main: tiny.js }
`;

/** Writes orchestrator.yaml and tiny.js into `dir`. */
export function writeTinyFleet(dir: string): void {
  writeFileSync(join(dir, "orchestrator.yaml"), SPEC);
  writeFileSync(join(dir, "tiny.js"), 'export default { fetch() { return new Response("tiny") } }');
}
