// `cbo release <worker>` and `cbo rollback <worker> [--to <release|version>]`: start it through
// the API, then follow its events live until it ends, and exit with its outcome's code
// (exit-codes.ts: 0 succeeded, 3 rolled back or aborted, 2 failed or unknown), whoever finished it.
import type { DaemonClient } from "../../client/index.ts";
import { rollbackPreviewLines, type Release } from "../../contract/index.ts";
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

export async function releaseCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(
    args,
    {
      ...DAEMON_FLAGS,
      "no-wait": { type: "boolean" },
      force: { type: "boolean" },
      "allow-non-gradual": { type: "boolean" },
      "confirm-class-deletion": { type: "boolean" },
    },
    RELEASE_USAGE,
  );
  if (values.help) return printUsage(RELEASE_USAGE);
  const { worker } = positionalsAs(positionals, ["worker"], RELEASE_USAGE);
  const client = connect(values);
  const opts = {
    ...(values.force ? { force: true } : {}),
    ...(values["allow-non-gradual"] ? { allow_non_gradual: true } : {}),
    ...(values["confirm-class-deletion"] ? { confirm_class_deletion: true } : {}),
  };
  return startAndFollow(() => client.release(worker, opts), client, values);
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
  if (!values.json) process.stdout.write(`${rollbackPreviewLines(preview).join("\n")}\n`);
  const opts = {
    ...(values["confirm-secret-downgrade"] ? { confirm_secret_downgrade: true } : {}),
    ...(values.force ? { force: true } : {}),
  };
  return startAndFollow(() => client.rollback(worker, values.to, opts), client, values);
}
