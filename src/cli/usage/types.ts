// The shape of a command's usage, and how it prints. Each command's usage is written once (the
// files beside this one) and printed by `cbo help <command> [<sub>]`, by `--help`/`-h` anywhere on
// its command line, and as the hint of its usage errors.

/** What every command that talks to the daemon takes (discover.ts finds the daemon and the token). */
export const DAEMON_FLAGS_USAGE = "[--url URL] [--token-file FILE] [--data DIR] [--json]";

/** One subcommand: `<sub> <args>` and what it does. */
export type SubUsage = { args: string; about?: string };

export type CommandUsage = {
  /** What it does, for the overview (`cbo help`); may wrap onto a second line. */
  summary: string;
  /** Its command lines without the leading `cbo <name>` (a command with subcommands lists them in `subs`). */
  synopsis?: string[];
  /** More about it, printed under the usage lines. */
  about?: string;
  /** Flags every line takes (e.g. DAEMON_FLAGS_USAGE), appended to each line. */
  flags?: string;
  /** Its subcommands, by name; `cbo help <name> <sub>` and `cbo <name> <sub> --help` print one. */
  subs?: Record<string, SubUsage>;
};

const indent = (text: string, by: string) =>
  text
    .split("\n")
    .map((l) => (l ? by + l : l))
    .join("\n");

const withFlags = (line: string, flags: string | undefined) => (flags ? `${line} ${flags}` : line);

/** A synopsis entry that starts with spaces continues the line before it. */
const isContinuation = (line: string) => /^\s/.test(line);

/** The command lines, each starting `cbo <name>` (continuations indented under them). */
function commandLines(name: string, u: CommandUsage, withSubs: boolean): string[] {
  const lines = (u.synopsis ?? []).map((l) => (isContinuation(l) ? `    ${l.trim()}` : `cbo ${name} ${l}`.trimEnd()));
  if (withSubs) for (const [sub, s] of Object.entries(u.subs ?? {})) lines.push(`cbo ${name} ${sub} ${s.args}`.trimEnd());
  return lines;
}

/** `cbo help <name>`: every line of the command, then what it does. */
export function renderUsage(name: string, u: CommandUsage): string {
  const out: string[] = [];
  if (u.subs && !u.synopsis) {
    // A group: `usage: cbo secrets <command>`, then each subcommand with what it does.
    out.push(withFlags(`usage: cbo ${name} <command>`, u.flags));
    for (const [sub, s] of Object.entries(u.subs)) {
      out.push(`  ${sub} ${s.args}`.trimEnd());
      if (s.about) out.push(indent(s.about, "      "));
    }
  } else {
    commandLines(name, u, false).forEach((l, i) => out.push(`${i === 0 ? "usage: " : "       "}${l}`));
    out[out.length - 1] = withFlags(out.at(-1)!, u.flags);
    for (const [sub, s] of Object.entries(u.subs ?? {})) {
      out.push(`       cbo ${name} ${sub} ${s.args}`.trimEnd());
      if (s.about) out.push(indent(s.about, "         "));
    }
  }
  if (u.about) out.push(indent(u.about, "  "));
  return out.join("\n");
}

/** `cbo help <name> <sub>`: that subcommand alone. */
export function renderSubUsage(name: string, sub: string, u: CommandUsage): string {
  const s = u.subs?.[sub];
  if (!s) return renderUsage(name, u);
  const out = [withFlags(`usage: cbo ${name} ${sub} ${s.args}`.trimEnd(), u.flags)];
  if (s.about) out.push(indent(s.about, "  "));
  return out.join("\n");
}

/** The overview's entry: the summary, then each command line. */
export function renderOverviewEntry(name: string, u: CommandUsage): string {
  const [first, ...rest] = u.summary.split("\n");
  const pad = " ".repeat(12);
  // A command line that wraps (audit search, vault rotate-master-key) is indented for `cbo help
  // <name>`; here its continuation goes under its own line, four columns in.
  const lines = commandLines(name, u, true).flatMap((l) => {
    const [head, ...more] = l.split("\n");
    return [pad + head, ...more.map((m) => `${pad}    ${m.trimStart()}`)];
  });
  return [`  ${name.padEnd(9)} ${first}`, ...rest.map((l) => pad + l), ...lines].join("\n");
}
