// The spec as the daemon sees it: orchestrator.yaml re-read when the file changes, so that a new
// worker, rollout, secret list or `config:` section takes effect at the next release or publish
// without a restart (the engine and config sync read the spec on every call). A file that no
// longer validates is not taken: the last good spec stays, the problem is logged once, and
// `refusal()` says so until the file changes again, so that every client can say that the file on
// disk is not the spec in use, and why (the API answers it on every authenticated response).
// Targets and the tenant are fixed for the daemon's lifetime (their Cloudflare clients are built
// at start): a change to them is refused the same way, asking for a restart.
import { statSync } from "node:fs";
import { loadSpec, type ResolvedSpec } from "./load.ts";
import type { Logger } from "../telemetry/index.ts";

/** The file on disk, refused: the daemon keeps the previous spec. */
export type SpecRefusal = { file: string; reason: string; since: string };

export type SpecSource = (() => ResolvedSpec) & {
  fresh(): ResolvedSpec;
  /** Set while the file on disk is refused (after the source last looked at it). */
  refusal(): SpecRefusal | undefined;
};

export function specSource(file: string, initial: ResolvedSpec, log: Logger): SpecSource {
  let current = initial;
  let seen = stampOf(file, initial);
  let refused: { mtime: string; refusal: SpecRefusal } | undefined;
  // Callers ask on every request (heartbeats arrive by the thousand): look at the file at most
  // every 250 ms.
  let lookedAt = 0;
  const refuse = (m: string, reason: string) => {
    refused = { mtime: m, refusal: { file, reason, since: new Date().toISOString() } };
  };
  const read = (fresh = false) => {
    const now = Date.now();
    if (!fresh && now - lookedAt < 250) return current;
    lookedAt = now;
    const m = stampOf(file, current);
    if (m === seen || m === refused?.mtime) return current;
    let next: ResolvedSpec;
    try {
      next = loadSpec(file);
    } catch (e) {
      const reason = e instanceof Error ? e.message : String(e);
      refuse(m, `it does not validate: ${reason}`);
      log.warn(`spec: ${file} changed but does not validate; keeping the previous one: ${reason}`);
      return current;
    }
    if (next.tenant !== current.tenant || JSON.stringify(next.targets) !== JSON.stringify(current.targets)) {
      refuse(
        m,
        "it changes the tenant or the targets, which take a restart of the daemon; workers and config keep the previous spec until then",
      );
      log.warn(
        `spec: ${file} changed its tenant or targets; restart the daemon to apply that (workers and config keep the previous spec until then)`,
      );
      return current;
    }
    seen = stampOf(file, next);
    refused = undefined;
    current = next;
    log.info(`spec: reloaded ${file} (${next.workers.length} worker(s))`);
    return current;
  };
  return Object.assign(() => read(), {
    /** Looks at the files now, whenever it last did: a release takes the edit saved just before it. */
    fresh: () => read(true),
    refusal: () => {
      read();
      return refused?.refusal;
    },
  });
}

/**
 * When the spec last changed: orchestrator.yaml and every wrangler file its workers were read
 * from (an edit to a wrangler file is an edit to the spec: `cbo diff` and the next release see it).
 */
function stampOf(file: string, spec: ResolvedSpec): string {
  const files = new Set([file]);
  for (const w of spec.workers)
    for (const s of [w.source, ...Object.values(w.sources ?? {})]) if (s?.origin.kind === "wrangler") files.add(s.origin.file);
  return [...files].map(mtimeOf).join(",");
}

function mtimeOf(file: string): number {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return -1;
  }
}
