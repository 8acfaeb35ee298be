// Runs one of the CLI's command functions in this process, as main.ts would (errors printed by
// output.ts's printError, the exit code returned), with planted stdin and captured output. For
// commands whose subject is a value on stdin, where a child process would add nothing but time.
import { Readable } from "node:stream";
import { vi } from "vitest";
import type { CliIo } from "../../src/cli/cli-io.ts";
import { printError } from "../../src/cli/output.ts";

export type InProcessRun = { code: number; stdout: Buffer; stderr: string; out: string };

export async function runInProcess(
  command: (args: string[], io: CliIo) => Promise<number>,
  args: string[],
  opts: { stdin?: string | Uint8Array; stdinIsTTY?: boolean; stdoutIsTTY?: boolean } = {},
): Promise<InProcessRun> {
  const stdout: Buffer[] = [];
  let stderr = "";
  const stdin = Object.assign(
    Readable.from(opts.stdin === undefined ? [] : [typeof opts.stdin === "string" ? Buffer.from(opts.stdin) : Buffer.from(opts.stdin)]),
    {
      isTTY: opts.stdinIsTTY ?? false,
    },
  );
  const io: CliIo = {
    stdin,
    stdout: { write: (c: string | Uint8Array) => stdout.push(Buffer.from(c)), isTTY: opts.stdoutIsTTY ?? false },
    stderr: { write: (s: string) => (stderr += s), isTTY: opts.stdoutIsTTY ?? false },
  };
  let code: number;
  try {
    code = await command(args, io);
  } catch (e) {
    const spy = vi.spyOn(process.stderr, "write").mockImplementation((s: string | Uint8Array) => ((stderr += String(s)), true));
    try {
      code = printError(e, args.includes("--debug"));
    } finally {
      spy.mockRestore();
    }
  }
  const out = Buffer.concat(stdout);
  return { code, stdout: out, stderr, out: out.toString("utf8") };
}
