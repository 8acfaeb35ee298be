// What the daemon's log says about a failed request: its own failures as errors, a spent Cloudflare
// budget as a warning, a client that hung up as information; the caller's mistakes not at all.
import { describe, expect, it } from "vitest";
import { CboError } from "../kit/errors.ts";
import type { Logger } from "../telemetry/index.ts";
import { toErrorResponse } from "./errors.ts";

function recordingLogger(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (msg: string) => void lines.push(`${level} ${msg}`);
  const log: Logger = { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error"), child: () => log, enabled: () => true };
  return { log, lines };
}

describe("toErrorResponse", () => {
  it("logs each kind of failure at its level and answers with the code's status", async () => {
    const { log, lines } = recordingLogger();
    const gone = toErrorResponse(new CboError("ERR_IO", "The client went away.", { details: { clientGone: true } }), log);
    const budget = toErrorResponse(new CboError("ERR_CF_BUDGET", "Budget spent.", { details: { retryAfter: 12 } }), log);
    const io = toErrorResponse(new CboError("ERR_IO", "Disk said no."), log);
    const user = toErrorResponse(new CboError("ERR_VALIDATION", "body.worker: required"), log);
    expect(lines).toEqual([
      "info api: The client went away.",
      "warn api: ERR_CF_BUDGET: Budget spent.",
      "error api: ERR_IO: Disk said no.",
    ]);
    expect(budget.status).toBe(429);
    expect(budget.headers.get("retry-after")).toBe("12");
    expect(user.status).toBe(400);
    expect(io.status).toBe(gone.status);
  });
});
