// A cron trigger as a config file gives it: checked when the file is read with the parser the
// local edge runs (Cloudflare's syntax, src/kit/cron-expression.ts). Unchecked, a bad one surfaced
// only mid-release, when the target refused the schedules after the new version was uploaded.
import * as z from "zod";
import { CronSyntaxError, parseCron } from "../kit/cron-expression.ts";

export const CronSchema = z
  .string()
  .min(1)
  .superRefine((text, ctx) => {
    try {
      parseCron(text);
    } catch (e) {
      if (!(e instanceof CronSyntaxError)) throw e;
      ctx.addIssue({ code: "custom", message: `not a cron expression Cloudflare takes: ${e.message}` });
    }
  });
