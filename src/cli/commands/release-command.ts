// `cbo release <worker>` and `cbo rollback <worker> [--to <release|version>]`: start it through
// the API, then follow its events live until it ends, and exit with its outcome's code
// (exit-codes.ts: 0 succeeded, 3 rolled back or aborted, 2 failed or unknown), whoever finished it.
import type { DaemonClient } from "../../client/index.ts";
import { rollbackPreviewLines, waitPlace, type ControlResult, type Release } from "../../contract/index.ts";
import { CboError } from "../../kit/errors.ts";
import { parse } from "../args.ts";
import { processIo } from "../cli-io.ts";
import { DAEMON_FLAGS, connect, positionalsAs, printUsage } from "../daemon-flags.ts";
import { followStarted, startLine } from "../follow-started.ts";
import { printJsonLine } from "../output.ts";
import { usageOf } from "../usage/index.ts";
import { asInvoked } from "../invocation.ts";

export { endLine, progressLine, startLine } from "../follow-started.ts";

export const RELEASE_USAGE = usageOf("release");
export const ROLLBACK_USAGE = usageOf("rollback");

async function startAndFollow(
  start: () => Promise<Release>,
  client: DaemonClient,
  values: { json?: boolean | undefined; "no-wait"?: boolean | undefined },
): Promise<number> {
  const release = await start();
  if (values["no-wait"]) {
    if (values.json) printJsonLine({ release });
    else process.stdout.write(asInvoked(`${startLine(release)}\nfollow it with: cbo events --follow --release ${release.id}\n`));
    return 0;
  }
  const { code, ...result } = await followStarted(client, release, processIo(), { json: values.json });
  if (values.json) printJsonLine(result);
  return code;
}

const CONTROL_VERBS = ["pause", "resume", "promote", "abort"] as const;
type ControlVerb = (typeof CONTROL_VERBS)[number];

export async function releaseCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(
    args,
    {
      ...DAEMON_FLAGS,
      "no-wait": { type: "boolean" },
      force: { type: "boolean" },
      "allow-non-gradual": { type: "boolean" },
      "confirm-class-deletion": { type: "boolean" },
      "override-window": { type: "boolean" },
      reason: { type: "string" },
    },
    RELEASE_USAGE,
  );
  if (values.help) return printUsage(RELEASE_USAGE);
  // `cbo release pause <id>`: a verb and an id (a worker named "pause" still releases alone).
  if (positionals.length === 2 && (CONTROL_VERBS as readonly string[]).includes(positionals[0]!)) {
    if (values["override-window"])
      throw new CboError("ERR_USAGE", "--override-window goes with cbo release <worker>.", { hint: RELEASE_USAGE });
    return controlCommand(positionals[0] as ControlVerb, positionals[1]!, values);
  }
  const { worker } = positionalsAs(positionals, ["worker"], RELEASE_USAGE);
  const reason = values.reason?.trim();
  if (values["override-window"] && !reason)
    throw new CboError("ERR_USAGE", "--override-window needs --reason TEXT: why this release may run outside the release windows.", {
      hint: 'e.g. cbo release api --override-window --reason "hotfix for INC-123"',
    });
  if (reason && !values["override-window"])
    throw new CboError("ERR_USAGE", "--reason goes with --override-window (or with cbo release pause|resume|promote|abort <id>).", {
      hint: RELEASE_USAGE,
    });
  const client = connect(values);
  const opts = {
    ...(values.force ? { force: true } : {}),
    ...(reason ? { overrideWindow: { reason } } : {}),
    ...(values["allow-non-gradual"] ? { allow_non_gradual: true } : {}),
    ...(values["confirm-class-deletion"] ? { confirm_class_deletion: true } : {}),
  };
  return startAndFollow(() => client.release(worker, opts).catch((e: unknown) => Promise.reject(verbWithoutId(worker, e))), client, values);
}

/**
 * `cbo release pause` without its id reads as a release of a worker named "pause" (a worker may
 * have that name): when there is none, the error says how the verb is given.
 */
function verbWithoutId(worker: string, e: unknown): unknown {
  if (!(CONTROL_VERBS as readonly string[]).includes(worker) || !(e instanceof CboError) || e.code !== "ERR_NOT_FOUND") return e;
  return new CboError("ERR_USAGE", `Missing <release id>: cbo release ${worker} takes the id of the release to ${worker}.`, {
    hint: `cbo release ${worker} <release id> (the ids: cbo status, or cbo events); no worker is named "${worker}" either`,
  });
}

async function controlCommand(
  verb: ControlVerb,
  id: string,
  values: { json?: boolean | undefined; reason?: string | undefined } & Parameters<typeof connect>[0],
): Promise<number> {
  const client = connect(values);
  const reason = values.reason?.trim() || undefined;
  if (verb === "abort") {
    const release = await client.abortRelease(id, reason);
    if (values.json) printJsonLine({ release });
    else process.stdout.write(`release ${release.id}: ${release.status}${release.reason ? ` (${release.reason})` : ""}\n`);
    return 0;
  }
  const call = { pause: client.pauseRelease, resume: client.resumeRelease, promote: client.promoteRelease }[verb];
  const result = await call(id, reason);
  if (values.json) printJsonLine(result);
  else process.stdout.write(`${controlLine(verb, id, result)}\n`);
  return 0;
}

/** What a pause, resume or promote did, in one line (the waits named as they are after it). */
function controlLine(verb: Exclude<ControlVerb, "abort">, id: string, { control, promoted }: ControlResult): string {
  const waits = control.waiting.map((w) => `${w.target} ${w.kind} ${waitPlace(w.percent, "at")}`).join(", ");
  switch (verb) {
    case "pause":
      return asInvoked(`release ${id}: paused${waits ? `; waiting: ${waits}` : ""}; go on with: cbo release resume ${id}`);
    case "resume":
      return `release ${id}: resumed`;
    case "promote":
      // A promote does not lift a pause: say so, or the release seems stuck.
      return asInvoked(
        `release ${id}: promoted${promoted?.length ? ` (${promoted.join(", ")})` : ""}${control.paused ? `; still paused: cbo release resume ${id}` : ""}`,
      );
  }
}

export async function rollbackCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(
    args,
    {
      ...DAEMON_FLAGS,
      to: { type: "string" },
      "no-wait": { type: "boolean" },
      preview: { type: "boolean" },
      "confirm-secret-downgrade": { type: "boolean" },
      force: { type: "boolean" },
    },
    ROLLBACK_USAGE,
  );
  if (values.help) return printUsage(ROLLBACK_USAGE);
  const { worker } = positionalsAs(positionals, ["worker"], ROLLBACK_USAGE);
  const client = connect(values);
  // Say exactly what it will do first (code, secrets, config per target; the schema that stays).
  const preview = await client.rollbackPreview(worker, values.to);
  if (values.preview) {
    if (values.json) printJsonLine({ preview });
    else process.stdout.write(`${rollbackPreviewLines(preview).join("\n")}\n`);
    return 0;
  }
  const given = { force: values.force === true, confirmSecretDowngrade: values["confirm-secret-downgrade"] === true };
  if (!values.json) process.stdout.write(`${rollbackPreviewLines(preview, given).join("\n")}\n`);
  const opts = {
    ...(values["confirm-secret-downgrade"] ? { confirm_secret_downgrade: true } : {}),
    ...(values.force ? { force: true } : {}),
  };
  return startAndFollow(() => client.rollback(worker, values.to, opts), client, values);
}
