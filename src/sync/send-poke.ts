// Pokes a Worker's agent to re-read its config now, through the one HTTP client for Workers
// (src/targets/worker-http.ts). Never throws: the answer is a short status for
// config_targets.poke ("ok", "http 401", "error: ..."), and polling covers a poke that failed.
import { AGENT_POKE_PATH } from "../kit/protocol/bindings.ts";
import { createPokeRequest } from "../kit/protocol/poke.ts";
import type { Endpoint } from "../targets/types.ts";
import { callWorker } from "../targets/worker-http.ts";
import { span } from "../telemetry/index.ts";

export async function sendPoke(
  endpoint: Endpoint,
  poke: { worker: string; target: string; configVersion: number },
  keys: Uint8Array[],
  timeoutMs = 2_000,
): Promise<string> {
  if (keys.length === 0) return "skipped: the Worker has no key yet";
  const req = await createPokeRequest(poke, keys);
  // A span per poke; the poke carries its traceparent to the agent (targets/worker-http.ts).
  const a = await span(
    "config.poke",
    { "cbo.worker": poke.worker, "cbo.target": poke.target, "cbo.config_version": poke.configVersion },
    (s) =>
      callWorker({ endpoint, path: AGENT_POKE_PATH, method: "POST", headers: req.headers, body: req.body, timeoutMs }).then((answer) => {
        if (answer.kind !== "response" || answer.status !== 202) s.fail(answer.kind === "response" ? `HTTP ${answer.status}` : answer.kind);
        return answer;
      }),
    "client",
  );
  switch (a.kind) {
    case "response":
      // The agent answers 202 (refresh scheduled); any other answer is not an agent taking the poke.
      return a.status === 202 ? "ok" : `http ${a.status}`;
    case "timeout":
      return `error: no answer in ${timeoutMs} ms`;
    case "error":
      return `error: ${a.message}`;
  }
}
