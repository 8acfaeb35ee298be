// A daemon that does not answer because it is no longer running: <data>/daemon.json (written by
// every start, left in place by every stop) names its pid, and that process is gone, stopped or
// killed. Said so, with how to start it again on the same directory, instead of the bare "not
// answering; start it with `cbo up`", which for an operator running `cbo daemon` next to `cbo edge`
// names the wrong command. Only when daemon.json names the URL that did not answer.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as z from "zod";
import { CboError } from "../kit/errors.ts";
import { alive } from "./starting.ts";

const DaemonFileSchema = z.looseObject({ url: z.string(), pid: z.number().int().positive() });

const sameOrigin = (a: string, b: string) => {
  try {
    return new URL(a).origin === new URL(b).origin;
  } catch {
    return false;
  }
};

/** ERR_IO saying the daemon of `dataDir` is gone (its pid no longer runs), or undefined when that is not known. */
export function goneDaemonError(dataDir: string, url: string, cause?: unknown): CboError | undefined {
  const file = join(dataDir, "daemon.json");
  let last: z.infer<typeof DaemonFileSchema>;
  try {
    last = DaemonFileSchema.parse(JSON.parse(readFileSync(file, "utf8")));
  } catch {
    return undefined;
  }
  if (!sameOrigin(last.url, url) || alive(last.pid)) return undefined;
  return new CboError(
    "ERR_IO",
    `The daemon at ${url} is not answering: the daemon that last ran on ${dataDir} (pid ${last.pid}) is no longer running (stopped, killed or crashed).`,
    {
      details: { dataDir, pid: last.pid },
      hint:
        `start it again on ${dataDir} the way it was started (\`cbo daemon --data ${dataDir}\` beside its \`cbo edge\`, or \`cbo up --data ${dataDir}\`); ` +
        "a release it was running is finished or rolled back as it starts, and `cbo status` and `cbo events` then say which",
      ...(cause === undefined ? {} : { cause }),
    },
  );
}
