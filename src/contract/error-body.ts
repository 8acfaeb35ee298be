// The API's one error shape: `{ "error": { "code", "message", "hint", "details" } }` (codes: src/kit/errors.ts).
import * as z from "zod";
import { ERROR_CODES, type ErrorCode } from "../kit/errors.ts";

export const ErrorBodySchema = z.object({
  error: z.object({
    code: z.enum(Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]]),
    message: z.string(),
    hint: z.string().optional().describe("What to do about it, when the daemon knows (a file and line to fix, a command to run)"),
    details: z.record(z.string(), z.unknown()).optional(),
  }),
});
export type ErrorBody = z.infer<typeof ErrorBodySchema>;

/**
 * An error body as a client reads it: the same shape with any code, so that a code added by a
 * newer daemon still brings its message (the client maps an unknown code by the HTTP status).
 */
export const AnyErrorBodySchema = z.object({ error: ErrorBodySchema.shape.error.extend({ code: z.string() }) });
