// Following a release another command started (`cbo keys rotate --wait`, `cbo secrets deliver
// --wait`), printed the way `cbo release` prints its own: a start line, each event, an end line.
// Ctrl-C stops following, not the release: it goes on in the daemon.
import type { ApiClient } from "./api-client.ts";
import type { ApiEvent, ApiRelease } from "./api-schemas.ts";
import type { CliIo } from "./cli-io.ts";
import { TERMINAL_STATUSES, exitCodeFor, followRelease, type FollowResult } from "./follow-release.ts";
import { endLine, progressLine, startLine } from "./release-command.ts";
import { createPaint, useColour } from "./table.ts";

export type Followed = FollowResult & { code: number };

export async function followStarted(client: ApiClient, release: ApiRelease, io: CliIo, opts: { json?: boolean | undefined }): Promise<Followed> {
  const startedAt = Date.now();
  const paint = createPaint(useColour(io.stdout));
  if (!opts.json) io.stdout.write(startLine(release) + "\n");
  const detach = new AbortController();
  const onSignal = () => detach.abort();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  let result: FollowResult;
  try {
    result = await followRelease(client, release, {
      signal: detach.signal,
      ...(opts.json ? {} : { onEvent: (e: ApiEvent) => io.stdout.write(progressLine(e, paint) + "\n") }),
    });
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
  if (!opts.json) io.stdout.write(endLine(result.release, startedAt, paint) + "\n");
  if (detach.signal.aborted && !TERMINAL_STATUSES.has(result.release.status)) {
    io.stderr.write(`${release.kind} ${release.id} goes on in the daemon; follow it with: cbo events --follow --release ${release.id}\n`);
  }
  return { ...result, code: exitCodeFor(result.release, result.events) };
}
