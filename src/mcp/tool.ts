// One MCP tool = one plain object: name, description, strict zod input, and a handler over the
// daemon's API. server.ts registers the list; a misspelt argument (`confirmed` for `confirm`) is
// refused by the strict schema instead of being dropped silently.
import * as z from "zod";
import type { DaemonClient } from "../client/index.ts";
import { CboError, toCboError, type ErrorCode } from "../kit/errors.ts";

/** What a handler returns: a sentence for the agent, and the data behind it. */
export type ToolOutcome =
  | { kind: "done"; summary: string; data?: unknown }
  /** A mutation called without `confirm: true`: nothing was done; `wouldDo` says what would be. */
  | { kind: "needs_confirmation"; wouldDo: string; preview?: unknown };

/**
 * The daemon client, acting as this tool (`x-cbo-via: mcp:<tool>`, server.ts); `progress` sends an
 * MCP progress notification when the caller asked for them (a progressToken), else does nothing;
 * `signal` aborts when the caller cancels the call (notifications/cancelled).
 */
export type ToolContext = {
  api: DaemonClient;
  progress?: (message: string) => Promise<void>;
  signal?: AbortSignal;
  /** `cbo mcp --secret-files DIR`, resolved: the only directory secret_rotate reads a value from. */
  secretFilesDir?: string;
};

export type ToolDef<S extends z.ZodObject> = {
  name: string;
  title: string;
  description: string;
  input: S;
  /** Changes the fleet or the vault: needs `confirm: true` (see confirm.ts). */
  mutating: boolean;
  run(args: z.output<S>, ctx: ToolContext): Promise<ToolOutcome>;
};

export type AnyTool = ToolDef<z.ZodObject>;

export function defineTool<S extends z.ZodObject>(def: ToolDef<S>): AnyTool {
  return def as unknown as AnyTool;
}

export const WorkerName = z
  .string()
  .regex(
    /^[a-z][a-z0-9-]{0,62}$/,
    "not a worker name: lowercase letters, digits and dashes, as in orchestrator.yaml (the status tool lists them)",
  )
  .describe("Worker name, as in orchestrator.yaml (see the status tool)");

export const Confirm = z
  .boolean()
  .optional()
  .describe(
    "true only after the user explicitly confirmed this exact action in the conversation; without it nothing is done and the answer says what would happen",
  );

export const done = (summary: string, data?: unknown): ToolOutcome => ({ kind: "done", summary, ...(data === undefined ? {} : { data }) });
export const needsConfirmation = (wouldDo: string, preview?: unknown): ToolOutcome => ({
  kind: "needs_confirmation",
  wouldDo,
  ...(preview === undefined ? {} : { preview }),
});

/**
 * The daemon's hints speak to a person at a terminal (`--to`, `cbo versions`, the dashboard); an
 * agent has only these tools. For a failure with `code` (and a message matching `when`), the same
 * error with a hint in the tools' words.
 */
export async function withToolHint<T>(p: Promise<T>, code: ErrorCode, hint: string, when?: RegExp): Promise<T> {
  try {
    return await p;
  } catch (e) {
    const err = toCboError(e);
    if (err.code !== code || (when && !when.test(err.message))) throw err;
    throw new CboError(err.code, err.message, { hint, ...(err.details ? { details: err.details } : {}) });
  }
}
