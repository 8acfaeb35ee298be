// The setup wizard's steps, in order, and what each tells the user. Pure: `cbo init` runs the
// steps (wizard.ts), GET /v1/setup reports them for a running daemon (daemon-state.ts).
//
// A step's status: pending -> running -> done | skipped | failed. A failed step carries a `fix`:
// what the user does about it. Later steps stay pending until it is fixed.
// The step ids, statuses and the step's shape are the API's (src/contract/setup.ts): GET /v1/setup
// sends these.
import {
  SETUP_STEP_IDS,
  SETUP_STEP_STATUSES,
  SetupStepSchema,
  type SetupStep,
  type SetupStepId,
  type SetupStepStatus,
} from "../contract/index.ts";

export const STEP_IDS = SETUP_STEP_IDS;
export type StepId = SetupStepId;
export const STEP_STATUSES = SETUP_STEP_STATUSES;
export type StepStatus = SetupStepStatus;
export { SetupStepSchema, type SetupStep };

export const TITLES: Record<StepId, string> = {
  "master-key": "Master key",
  cloudflare: "Cloudflare token and accounts (or the local edge)",
  targets: "Targets",
  tunnel: "Cloudflare Tunnel",
  "first-release": "First release",
};

/** The scopes our Cloudflare calls need; the token check names them when it fails. */
export const CLOUDFLARE_TOKEN_FIX =
  'Create an API token at https://dash.cloudflare.com/profile/api-tokens ("Create Custom Token") with the permissions ' +
  "Account · Workers Scripts:Edit, Account · Workers KV Storage:Edit and Account · Account Settings:Read " +
  "(add Account · Cloudflare Tunnel:Edit for a tunnel), limited to the accounts you release to; save it in a file with " +
  "mode 0600 and pass --api-token-file FILE. Or use the local edge: cbo init --local.";

/** Used when a failure brings no hint of its own. */
export const DEFAULT_FIXES: Record<StepId, string> = {
  "master-key":
    "Give the key the vault was created with (CBO_MASTER_KEY, CBO_MASTER_KEY_FILE or --master-key-file, mode 0600), or start with an empty --data directory.",
  cloudflare: CLOUDFLARE_TOKEN_FIX,
  targets:
    "Check each target's account_id (32 hex) and that the token reaches that account; `cbo init --local` uses the local edge instead.",
  tunnel:
    "Install cloudflared (Debian/Ubuntu: Cloudflare's apt repository at https://pkg.cloudflare.com; or the cloudflare/cloudflared Docker image), then run `cbo tunnel create`.",
  "first-release":
    "Look at what the release did: `cbo events --release <id>` (a gate probes each new version; fix the Worker or its probe_path), then run the step again.",
};

export function initialSteps(): SetupStep[] {
  return STEP_IDS.map((id) => ({ id, title: TITLES[id], status: "pending", detail: "" }));
}

/** The list with one step changed (a new array: callers hand it out as a snapshot). */
export function withStep(
  steps: SetupStep[],
  id: StepId,
  change: { status: StepStatus; detail: string; fix?: string | undefined },
): SetupStep[] {
  return steps.map((s) =>
    s.id === id
      ? {
          id,
          title: s.title,
          status: change.status,
          detail: change.detail,
          ...(change.status === "failed" && change.fix ? { fix: change.fix } : {}),
        }
      : s,
  );
}
