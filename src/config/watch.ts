// The spec as the daemon sees it: orchestrator.yaml re-read when the file changes, so that a new
// worker, rollout, secret list or `config:` section takes effect at the next release or publish
// without a restart (the engine and config sync read the spec on every call). A file that no
// longer validates is not taken: the last good spec stays, and the problem is logged once.
// Targets and the tenant are fixed for the daemon's lifetime (their Cloudflare clients are built
// at start): a change to them is refused the same way, asking for a restart.
import { statSync } from "node:fs";
import { loadSpec, type ResolvedSpec } from "./load.ts";
import type { Logger } from "../telemetry/index.ts";

export function specSource(file: string, initial: ResolvedSpec, log: Logger): () => ResolvedSpec {
  let current = initial;
  let seen = mtimeOf(file);
  let refused: number | undefined;
  // Callers ask on every request (heartbeats arrive by the thousand): look at the file at most
  // every 250 ms.
  let lookedAt = 0;
  return () => {
    const now = Date.now();
    if (now - lookedAt < 250) return current;
    lookedAt = now;
    const m = mtimeOf(file);
    if (m === seen || m === refused) return current;
    let next: ResolvedSpec;
    try {
      next = loadSpec(file);
    } catch (e) {
      refused = m;
      log.warn(`spec: ${file} changed but does not validate; keeping the previous one: ${e instanceof Error ? e.message : String(e)}`);
      return current;
    }
    if (next.tenant !== current.tenant || JSON.stringify(next.targets) !== JSON.stringify(current.targets)) {
      refused = m;
      log.warn(
        `spec: ${file} changed its tenant or targets; restart the daemon to apply that (workers and config keep the previous spec until then)`,
      );
      return current;
    }
    seen = m;
    refused = undefined;
    current = next;
    log.info(`spec: reloaded ${file} (${next.workers.length} worker(s))`);
    return current;
  };
}

function mtimeOf(file: string): number {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return -1;
  }
}
