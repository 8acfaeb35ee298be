// One event as a line of `cbo events`: id, time, type, worker/target, release, and its meaning.
import type { AnyEvent } from "../contract/index.ts";
import { describeEvent } from "./describe-event.ts";
import { clock, type Paint } from "./table.ts";

export function formatEventLine(e: AnyEvent, paint: Paint): string {
  const where = [e.worker, e.target].filter(Boolean).join("/") || "-";
  const release = e.release_id ? ` ${paint.dim(e.release_id)}` : "";
  return `${paint.dim(`#${e.id}`)} ${clock(e.at)} ${where}${release}  ${describeEvent(e, paint)}`;
}
