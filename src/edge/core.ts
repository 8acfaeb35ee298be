// What the Hono adapter and the fetch wrapper share: the isolate's runtime, started once (later
// callers wait for the same start; a failed start is retried by the next request).
import type { AgentRuntime, WaitUntil } from "./runtime.ts";
import { startRuntime } from "./runtime.ts";
import type { AgentEnv, EdgeAgentOptions } from "./types.ts";
import { AGENT_MOUNT_PATH } from "../kit/protocol/index.ts";

export type AgentCore<C> = {
  /** The runtime if started: the per-request fast path, no promise. */
  current(): AgentRuntime<C> | undefined;
  ensure(env: AgentEnv): Promise<AgentRuntime<C>>;
};

export function createAgentCore<C>(options: EdgeAgentOptions<C>): AgentCore<C> {
  let runtime: AgentRuntime<C> | undefined;
  let starting: Promise<AgentRuntime<C>> | undefined;
  return {
    current: () => runtime,
    ensure(env) {
      if (runtime) return Promise.resolve(runtime);
      starting ??= startRuntime(env, options).then(
        (rt) => (runtime = rt),
        (e: unknown) => {
          starting = undefined;
          throw e;
        },
      );
      return starting;
    },
  };
}

/** Is this path one of the agent's own routes (not counted as the app's traffic)? */
export function isAgentPath(path: string): boolean {
  return (
    path.startsWith(AGENT_MOUNT_PATH) &&
    (path.length === AGENT_MOUNT_PATH.length || path.charCodeAt(AGENT_MOUNT_PATH.length) === 47) /* "/" */
  );
}

/** Is this request URL's path one of the agent's routes? Checked without parsing or slicing the URL (every request pays for it). */
export function isAgentUrl(url: string): boolean {
  const start = url.indexOf("/", url.indexOf("://") + 3);
  if (start < 0 || !url.startsWith(AGENT_MOUNT_PATH, start)) return false;
  const next = url.charCodeAt(start + AGENT_MOUNT_PATH.length);
  return Number.isNaN(next) || next === 47 /* / */ || next === 63 /* ? */ || next === 35 /* # */;
}

export const detached: WaitUntil = (p) => void p.catch(() => {});
