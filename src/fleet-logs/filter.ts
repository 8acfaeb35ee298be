// Which lines a reader asked for: worker, target, verdict and a text (case-insensitive, in a
// console line, an exception or the request's URL). Applied to the line as the reader sees it
// (after redaction), so a search cannot find what the reader is not shown.
import type { LogLine, LogVerdict } from "../contract/index.ts";

export type LineFilter = {
  worker?: string | undefined;
  target?: string | undefined;
  status?: LogVerdict | undefined;
  search?: string | undefined;
};

const partText = (p: unknown) => (typeof p === "string" ? p : (JSON.stringify(p) ?? ""));

/** The text a search looks in. */
export function searchableText(line: LogLine): string {
  return [
    line.event.request?.url ?? "",
    ...line.logs.map((l) => l.message.map(partText).join(" ")),
    ...line.exceptions.map((e) => `${e.name}: ${e.message}`),
  ].join("\n");
}

export function matches(line: LogLine, f: LineFilter): boolean {
  if (f.worker !== undefined && line.worker !== f.worker) return false;
  if (f.target !== undefined && line.target !== f.target) return false;
  if (f.status !== undefined && line.verdict !== f.status) return false;
  if (f.search !== undefined && !searchableText(line).toLowerCase().includes(f.search.toLowerCase())) return false;
  return true;
}
