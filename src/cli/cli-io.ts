// Where a command reads and writes. main.ts passes nothing and gets the process's streams; tests
// pass their own, so a command that reads a secret from stdin runs in process with planted input.
export type CliIo = {
  stdin: AsyncIterable<Uint8Array | string> & { isTTY?: boolean };
  stdout: { write(chunk: string | Uint8Array): unknown; isTTY?: boolean };
  stderr: { write(chunk: string): unknown; isTTY?: boolean };
};

export function processIo(): CliIo {
  return { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr };
}
