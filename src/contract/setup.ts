// The setup wizard on the wire (GET /v1/setup, POST /v1/setup/:step): its steps, each with a
// status, a detail and, when it failed, what to do about it.
import * as z from "zod";
import { SETUP_STEP_IDS, SETUP_STEP_STATUSES } from "./statuses.ts";

export const SetupStepSchema = z.object({
  id: z.enum(SETUP_STEP_IDS),
  title: z.string(),
  status: z.enum(SETUP_STEP_STATUSES),
  detail: z.string(),
  fix: z.string().optional().describe("What to do about a failed step"),
});
export type SetupStep = z.infer<typeof SetupStepSchema>;

export const SetupSchema = z.object({ steps: z.array(SetupStepSchema) });
export const SetupStepParamsSchema = z.object({ step: z.enum(SETUP_STEP_IDS).describe("Step id") });
export const RunSetupStepBodySchema = z
  .object({
    input: z
      .object({
        worker: z
          .string()
          .regex(/^[a-z][a-z0-9-]{0,62}$/)
          .optional()
          .describe("first-release: the worker to release (default: the first in orchestrator.yaml)"),
      })
      .strict()
      .optional(),
  })
  .strict();
export const SetupStepRunSchema = z.object({ step: SetupStepSchema, releaseId: z.string().optional() });
