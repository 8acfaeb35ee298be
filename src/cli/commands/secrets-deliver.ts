// `cbo secrets deliver <name> [--wait]`: starts a release of every worker that lists the secret,
// so that each target ships its current version through the usual canary steps and gates. With
// --wait, follows them one after the other (they run side by side in the daemon) and exits with
// the worst outcome: 0 all shipped, 3 one rolled back or was aborted, 2 one failed (exit-codes.ts).
import { parse } from "../args.ts";
import { connect, DAEMON_FLAGS } from "../daemon-flags.ts";
import { worseExit } from "../exit-codes.ts";
import { followStarted } from "../follow-started.ts";
import { SECRETS_USAGE } from "../secrets-usage.ts";
import { hinted, positionals, writeJson, type Subcommand } from "../subcommand.ts";
import { asInvoked } from "../invocation.ts";

export const deliver: Subcommand = async (args, io) => {
  const { values, positionals: given } = parse(args, { ...DAEMON_FLAGS, wait: { type: "boolean" } }, SECRETS_USAGE);
  const { name } = positionals(given, ["name"], SECRETS_USAGE);
  const d = await hinted(connect(values).deliverSecret(name), {
    ERR_NOT_FOUND: "list the secret under a worker's `secrets:` in orchestrator.yaml (and `cbo secrets list` for the ones in the vault)",
    ERR_CONFLICT: "wait for the running release to end (`cbo events --follow`), then deliver",
    ERR_FORBIDDEN: "delivering needs a deployer or admin token",
  });
  const started = d.releases.map((r) => `${r.worker} (release ${r.releaseId})`).join(", ");
  if (!values.wait) {
    if (values.json) return (writeJson(io, d), 0);
    // A worker that already ships this version ends its release `unchanged` at once: say so rather
    // than "started" with a release to follow that has nothing to show.
    const client = connect(values);
    const runs = await Promise.all(d.releases.map(async (r) => ({ ...r, status: (await client.getRelease(r.releaseId)).release.status })));
    const moving = runs.filter((r) => r.status !== "unchanged");
    const parts = [
      ...(moving.length ? [`started ${moving.map((r) => `${r.worker} (release ${r.releaseId})`).join(", ")}`] : []),
      ...runs
        .filter((r) => r.status === "unchanged")
        .map((r) => `${r.worker} already ships it on every target (release ${r.releaseId} unchanged)`),
    ];
    io.stdout.write(`delivering secret ${d.name} version ${d.version}: ${parts.join("; ")}\n`);
    for (const r of moving) io.stdout.write(asInvoked(`follow it with: cbo events --follow --release ${r.releaseId}\n`));
    return 0;
  }
  if (!values.json) io.stdout.write(`delivering secret ${d.name} version ${d.version}: started ${started}\n`);
  const client = connect(values);
  let code = 0;
  const outcomes = [];
  for (const r of d.releases) {
    const { release } = await client.getRelease(r.releaseId);
    const followed = await followStarted(client, release, io, { json: values.json });
    outcomes.push({ worker: r.worker, releaseId: r.releaseId, status: followed.release.status });
    code = worseExit(code, followed.code);
  }
  if (values.json) writeJson(io, { ...d, releases: outcomes });
  else if (code !== 0) {
    const failed = outcomes.filter((o) => o.status !== "succeeded").map((o) => `${o.worker} (${o.status.replace("_", " ")})`);
    io.stderr.write(
      `secret ${d.name} version ${d.version} did not reach ${failed.join(", ")}: a release that does not succeed leaves its worker on the versions it had\n`,
    );
  }
  return code;
};
