// One fleet log line as `cbo logs` prints it, the way `wrangler tail` pretty-prints an event, with
// the target and version in front: the invocation, then each console line and exception indented.
//
//   12:04:31 [eu] ads-api 1a2b3c4d  GET https://ads-api.example/health → 200 Ok
//     (log) hello from eu
//     (error) Error: boom
import type { LogLine } from "../contract/index.ts";
import { clock, type Paint } from "./table.ts";

const OUTCOMES: Record<string, string> = {
  ok: "Ok",
  canceled: "Canceled",
  exception: "Exception Thrown",
  exceededCpu: "Exceeded CPU Limit",
  exceededMemory: "Exceeded Memory Limit",
  unknown: "Unknown",
};

const part = (p: unknown) => (typeof p === "string" ? p : JSON.stringify(p));

export function formatLogLine(l: LogLine, paint: Paint): string {
  const req = l.event.request;
  const what = req
    ? `${req.method} ${req.url}${l.status !== null ? ` → ${l.status}` : ""}`
    : l.event.kind === "scheduled"
      ? `cron "${l.event.cron ?? ""}"`
      : l.event.kind === "queue"
        ? `queue ${l.event.queue ?? ""}`
        : l.event.kind;
  const outcome = OUTCOMES[l.outcome] ?? l.outcome;
  const head = `${clock(l.time)} ${paint.bold(`[${l.target}]`)} ${l.worker} ${paint.dim((l.versionId ?? "-").slice(0, 8))}  ${what} ${l.verdict === "ok" ? paint.ok(outcome) : paint.bad(outcome)}`;
  const lines = [head];
  for (const c of l.logs) {
    const text = `  (${c.level}) ${c.message.map(part).join(" ")}`;
    lines.push(c.level === "error" ? paint.bad(text) : c.level === "warn" ? paint.warn(text) : text);
  }
  for (const e of l.exceptions) lines.push(paint.bad(`  (exception) ${e.name}: ${e.message}`));
  return lines.join("\n");
}
