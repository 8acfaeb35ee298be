// Usage of the commands about the fleet: what runs where, releases, events, config, per-Worker keys.
import { DAEMON_FLAGS_USAGE, type CommandUsage } from "./types.ts";

const FOLLOWS = "follows it live; exit 0 succeeded, 3 rolled back or aborted, 2 failed or outcome unknown (whoever finished it)";

export const status: CommandUsage = {
  summary: "per worker and target: live versions with percentages, health, last release",
  synopsis: [""],
  flags: DAEMON_FLAGS_USAGE,
};

export const plan: CommandUsage = {
  summary:
    "what `cbo release` would do: the diff against what each target runs (as cbo diff), targets,\nlive versions, waves, steps, actions, API calls, and the secret versions each target ships",
  synopsis: ["<worker>"],
  flags: DAEMON_FLAGS_USAGE,
};

export const diff: CommandUsage = {
  summary:
    "per target, what `cbo release` would change against what it runs now: code (modules), bindings,\nvars, compatibility, secrets (name@version), config, assets, crons, routes, consumers, settings",
  synopsis: ["<worker> [--strict]"],
  about: "--strict: exit 4 when a target runs a version the orchestrator never uploaded there (drift), for CI",
  flags: DAEMON_FLAGS_USAGE,
};

export const release: CommandUsage = {
  summary: "release a worker (canary first, gated), following it live; pause, resume, promote or abort one",
  synopsis: ["<worker> [--force] [--no-wait] [--override-window --reason TEXT]", "pause|resume|promote|abort <release id> [--reason TEXT]"],
  about: `canary first, in waves and steps, each step gated (probes, then canary vs baseline on real traffic); ${FOLLOWS}.\nA release that would change nothing ends at once as unchanged (exit 0); --force releases anyway.\n--no-wait: start it and exit 0 (follow it with cbo events --follow --release ID)\n--override-window: release although orchestrator.yaml's windows deny it now; needs --reason (audited)\npause: no target starts another step until resume; promote: go on past a {pause: approve} or timed pause step\n(deployer or admin; a viewer is refused); abort: stop and roll back every touched target`,
  flags: DAEMON_FLAGS_USAGE,
};

export const rollback: CommandUsage = {
  summary: "every target back to an earlier version at once, without gates",
  synopsis: ["<worker> [--to <release id|version id>] [--no-wait]"],
  about: `default: the version before the live one; ${FOLLOWS}`,
  flags: DAEMON_FLAGS_USAGE,
};

export const versions: CommandUsage = {
  summary: "the newest versions per target, the live one marked",
  synopsis: ["<worker> [--limit N (per target, default 10)]"],
  flags: DAEMON_FLAGS_USAGE,
};

export const events: CommandUsage = {
  summary: "the event log; --follow streams it live until Ctrl-C (resume with --after N)",
  synopsis: ["[--follow] [--after N] [--release ID] [--limit N]"],
  about:
    "without --after: the newest N events (default 1000), oldest first; --after N: the events after #N, oldest first\n--follow (-f): those, then each new one as it is recorded",
  flags: DAEMON_FLAGS_USAGE,
};

export const logs: CommandUsage = {
  summary:
    "the Workers' logs from every target, merged and labelled (target, version, outcome, status, console\nlines); the kept ones, or --follow live until Ctrl-C (through the daemon, as wrangler tail does for one)",
  synopsis: ["<worker> [--target T] [--follow] [--status ok|error] [--search TEXT] [--limit N]"],
  about:
    "without --follow: the newest kept lines (--limit, default 100), oldest first; a worker's lines are kept\nwhen logs.workers in orchestrator.yaml names it. --follow (-f): live lines from every target until Ctrl-C.\n--status error: an outcome other than ok, or a 5xx answer; --search: text in a console line, an exception or the URL",
  flags: DAEMON_FLAGS_USAGE,
};

export const config: CommandUsage = {
  summary: "the signed config each edge agent serves (the config: section of orchestrator.yaml)",
  flags: DAEMON_FLAGS_USAGE,
  subs: {
    diff: {
      args: "<worker>",
      about: "per target: published version, applied or not, and each changed key with its old and new value",
    },
    publish: {
      args: "<worker> [--force]",
      about:
        "sign the spec's config as a new version, write it to each target's KV, poke the Workers; the audit entry\nrecords each changed key (old -> new); exit 2 when a target could not be written",
    },
    history: { args: "<worker>", about: "published versions, newest first" },
    rollback: { args: "<worker> --to N", about: "send version N again, as a signed rollback bundle" },
  },
};

export const keys: CommandUsage = {
  summary: "per-Worker keys (versions only, never a key)",
  flags: DAEMON_FLAGS_USAGE,
  subs: {
    list: { args: "", about: "per worker and target: the key version it ships and the versions that verify (never a key)" },
    rotate: {
      args: "<worker> [--target T] [--no-release] [--wait]",
      about:
        "new per-Worker keys (admin); the release it starts ships them, and the old keys verify until that release\nsucceeds. --no-release: the next release ships them. --wait: follow the release (exit 0 shipped, 3 rolled\nback or aborted, 2 failed)",
    },
  },
};
