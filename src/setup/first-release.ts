// The wizard's last step: release a worker through the engine (canary first, gated, as any
// release) and, where it can be reached from here, check that it answers.
import { CboError } from "../kit/errors.ts";
import type { Engine } from "../deploy/types.ts";
import type { Endpoint } from "../targets/types.ts";
import { callWorker, workerUrl } from "../targets/worker-http.ts";
import type { StepOutcome } from "./wizard.ts";

export async function firstRelease(
  engine: Pick<Engine, "release" | "wait">,
  worker: string,
  by: string,
): Promise<StepOutcome & { releaseId: string }> {
  const started = await engine.release(worker, { by });
  const r = await engine.wait(started.id);
  // "unchanged": every target already serves this build (a wizard run again); nothing to do.
  if (r.status === "unchanged")
    return { status: "done", detail: `${worker} already serves this build (release ${r.id}: unchanged)`, releaseId: r.id };
  if (r.status !== "succeeded") {
    throw new CboError("ERR_CONFLICT", `Release ${r.id} of ${worker} ended ${r.status}${r.reason ? `: ${r.reason}` : ""}.`, {
      details: { releaseId: r.id, status: r.status },
      hint: `See what each step did: cbo events --release ${r.id}. A gate probes the new version; fix the Worker (or its rollout.gate.probe_path), then run the step again.`,
    });
  }
  return { status: "done", detail: `${worker} released (release ${r.id}, every target at 100%)`, releaseId: r.id };
}

/** GET `endpoint` through the one HTTP client for Workers (its Host header); the status and body. */
export async function probe(endpoint: Endpoint, path = "/", timeoutMs = 10_000): Promise<{ status: number; body: string }> {
  const a = await callWorker({ endpoint, path, timeoutMs, maxBodyBytes: 2000 });
  if (a.kind === "response") return { status: a.status, body: a.body };
  if (a.kind === "timeout") throw new CboError("ERR_IO", `${workerUrl(endpoint, path).href} did not answer within ${timeoutMs / 1000} s.`);
  throw new Error(a.message);
}

/** The worker answers 2xx on every target it can be reached on from here. */
export async function checkServing(
  worker: string,
  endpoints: Array<{ target: string; endpoint: Endpoint; publicUrl: string }>,
): Promise<string> {
  const failures: string[] = [];
  for (const e of endpoints) {
    try {
      const r = await probe(e.endpoint);
      if (r.status < 200 || r.status >= 300) failures.push(`${e.target}: HTTP ${r.status}`);
    } catch (err) {
      failures.push(`${e.target}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  if (failures.length > 0) {
    throw new CboError("ERR_CF_UNAVAILABLE", `${worker} was released but does not answer: ${failures.join("; ")}.`, {
      hint: `Check the Worker's code and \`cbo status\`; then run the step again.`,
    });
  }
  return endpoints.map((e) => `${e.target} ${e.publicUrl}`).join(", ");
}
