// Runs the setup steps in order, reporting every change of state as it happens (the terminal
// prints it live; tests read the snapshots). Each step is an async function returning its
// outcome; a thrown error fails the step with its message, and its hint (or the step's default
// fix) as the fix. The first failure stops the run: the steps after it stay pending.
import { toCboError, type CboError } from "../kit/errors.ts";
import { DEFAULT_FIXES, initialSteps, STEP_IDS, withStep, type SetupStep, type StepId } from "./steps.ts";

export type StepOutcome = { status: "done" | "skipped"; detail: string };
export type StepActions = Record<StepId, () => Promise<StepOutcome>>;

export type WizardResult = { ok: boolean; steps: SetupStep[]; error?: CboError; failed?: StepId };

export async function runWizard(
  actions: StepActions,
  onChange: (steps: SetupStep[], changed: SetupStep) => void = () => {},
): Promise<WizardResult> {
  let steps = initialSteps();
  const set = (id: StepId, change: Parameters<typeof withStep>[2]) => {
    steps = withStep(steps, id, change);
    onChange(steps, steps.find((s) => s.id === id)!);
  };
  for (const id of STEP_IDS) {
    set(id, { status: "running", detail: "" });
    try {
      const out = await actions[id]();
      set(id, out);
    } catch (e) {
      const error = toCboError(e);
      set(id, { status: "failed", detail: error.message, fix: error.hint ?? DEFAULT_FIXES[id] });
      return { ok: false, steps, error, failed: id };
    }
  }
  return { ok: true, steps };
}
