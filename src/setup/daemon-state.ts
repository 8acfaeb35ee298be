// The wizard's steps as a running daemon sees them (GET /v1/setup): level-based, each step
// re-read from what exists: the vault is open with a master key, the token and targets answer a
// verify call, a tunnel is configured, a release has succeeded. The checks that call Cloudflare
// are cached (`maxAgeMs`), since a dashboard polls this page and the API budget is shared.
import { CboError, isCboError } from "../kit/errors.ts";
import type { ResolvedSpec } from "../config/load.ts";
import type { Release } from "../store/index.ts";
import type { TargetRuntime } from "../targets/types.ts";
import { checkCloudflareToken, checkTargets } from "./cloudflare-check.ts";
import { DEFAULT_FIXES, initialSteps, withStep, type SetupStep, type StepId } from "./steps.ts";
import { tunnelStep, which, type TunnelState } from "./tunnel-check.ts";
import type { StepOutcome } from "./wizard.ts";

export type DaemonSetupDeps = {
  spec: () => ResolvedSpec;
  targets?: () => Map<string, TargetRuntime>;
  /** The master key in use: its id and where it came from (never the key). */
  masterKey?: () => { id: string; source: string };
  /** This tenant's releases, newest first. */
  releases: (tenant: string) => Release[];
  tunnel?: () => Promise<TunnelState | undefined>;
  cloudflared?: () => string | undefined;
  maxAgeMs?: number;
  now?: () => number;
};

type Check = { at: number; result: Promise<StepOutcome> };

export function createSetupState(deps: DaemonSetupDeps) {
  const cache = new Map<StepId, Check>();
  const now = deps.now ?? Date.now;
  const maxAge = deps.maxAgeMs ?? 30_000;
  const cached = (id: StepId, run: () => Promise<StepOutcome>) => {
    const hit = cache.get(id);
    if (hit && now() - hit.at < maxAge) return hit.result;
    const result = run();
    cache.set(id, { at: now(), result });
    return result;
  };

  // The first release is read from the store (releaseState), not checked.
  const checks: Record<Exclude<StepId, "first-release">, () => Promise<StepOutcome>> = {
    "master-key": async () => {
      const k = deps.masterKey?.();
      return { status: "done", detail: k ? `the vault is open with master key ${k.id} (from ${k.source})` : "the vault is open" };
    },
    cloudflare: () => cached("cloudflare", () => cloudflareState(deps)),
    targets: () => cached("targets", () => checkTargets([...(deps.targets?.() ?? new Map()).values()])),
    tunnel: async () => tunnelStep({ cloudflared: (deps.cloudflared ?? (() => which("cloudflared")))(), tunnel: await deps.tunnel?.() }),
  };

  async function step(steps: SetupStep[], id: StepId): Promise<SetupStep[]> {
    if (id === "first-release") return releaseState(steps, deps.releases(deps.spec().tenant));
    try {
      return withStep(steps, id, await checks[id]());
    } catch (e) {
      return withStep(steps, id, {
        status: "failed",
        detail: e instanceof Error ? e.message : String(e),
        fix: (isCboError(e) ? e.hint : undefined) ?? DEFAULT_FIXES[id],
      });
    }
  }

  return {
    /** Every step, checked now (Cloudflare calls from the cache when fresh). */
    async steps(): Promise<SetupStep[]> {
      let steps = initialSteps();
      for (const s of steps) steps = await step(steps, s.id);
      return steps;
    },
    /** One step, checked again now (its cache dropped). */
    async recheck(id: StepId): Promise<SetupStep> {
      cache.delete(id);
      return (await step(initialSteps(), id)).find((s) => s.id === id)!;
    },
  };
}
export type SetupState = ReturnType<typeof createSetupState>;

/** Each Cloudflare token in use (the daemon's, and each target's own) against the accounts of the targets that send it. */
async function cloudflareState(deps: DaemonSetupDeps): Promise<StepOutcome> {
  const remote = deps.spec().targets.filter((t) => t.api !== "local");
  if (remote.length === 0) return { status: "done", detail: "every target is on the local edge; no Cloudflare token needed" };
  const groups = new Map<string, { runtime: TargetRuntime; api: string; accounts: Set<string> }>();
  for (const t of remote) {
    const runtime = deps.targets?.().get(t.name);
    if (!runtime) throw new CboError("ERR_INTERNAL", `The daemon has no runtime for target ${t.name}.`);
    const key = runtime.tokenSource ?? "CLOUDFLARE_API_TOKEN";
    const g = groups.get(key) ?? { runtime, api: t.api, accounts: new Set<string>() };
    g.accounts.add(runtime.accountId);
    groups.set(key, g);
  }
  const details: string[] = [];
  for (const [source, g] of groups) {
    try {
      details.push(`${source}: ${(await checkCloudflareToken(g.runtime.client, [...g.accounts], g.api)).detail}`);
    } catch (e) {
      if (isCboError(e)) throw new CboError(e.code, `${source}: ${e.message}`, { ...(e.hint ? { hint: e.hint } : {}) });
      throw e;
    }
  }
  return { status: "done", detail: details.join("; ") };
}

/**
 * Done once a release succeeded, naming the first one (`releases` is newest first): later
 * releases, rollbacks and a release running now do not undo it. Before that: running while one
 * runs; failed when only failures exist.
 */
function releaseState(steps: SetupStep[], releases: Release[]): SetupStep[] {
  const first = releases.findLast((r) => r.kind === "release" && r.status === "succeeded");
  if (first)
    return withStep(steps, "first-release", {
      status: "done",
      detail: `release ${first.id} of ${first.worker} succeeded (${first.updated_at})`,
    });
  const running = releases.find((r) => r.status === "running" || r.status === "rolling_back");
  if (running)
    return withStep(steps, "first-release", {
      status: "running",
      detail: `${running.kind} ${running.id} of ${running.worker} is ${running.status}`,
    });
  const last = releases[0];
  if (last) {
    return withStep(steps, "first-release", {
      status: "failed",
      detail: `${last.kind} ${last.id} of ${last.worker} ended ${last.status}${last.reason ? `: ${last.reason}` : ""}`,
      fix: `See what each step did: cbo events --release ${last.id}; fix the Worker or its gate, then run this step again.`,
    });
  }
  return withStep(steps, "first-release", {
    status: "pending",
    detail: "no release yet: run this step to release the first worker of orchestrator.yaml",
  });
}
