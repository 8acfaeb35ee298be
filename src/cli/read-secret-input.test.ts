import { execFileSync } from "node:child_process";
import { closeSync, constants, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import type { CboError } from "../kit/errors.ts";
import { readSecretInput } from "./read-secret-input.ts";

const dir = mkdtempSync(join(tmpdir(), "cbo-read-secret-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const stdin = (...chunks: Array<string | Buffer>) => Object.assign(Readable.from(chunks.map((c) => Buffer.from(c))), { isTTY: false });
const fails = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (e) {
    return e as CboError;
  }
  throw new Error("expected a failure");
};

describe("readSecretInput", () => {
  it("stdin: drops exactly one trailing \\n, keeps every other byte (CR, spaces, inner newlines)", async () => {
    const cases: Array<[string, string]> = [
      ["v\n", "v"],
      ["v\n\n", "v\n"],
      ["v\r\n", "v\r"],
      [" v ", " v "],
      ["a\nb", "a\nb"],
      ["\uFEFFbom\n", "\uFEFFbom"],
    ];
    for (const [given, kept] of cases)
      expect(await readSecretInput({ stdin: stdin(given) })).toEqual({ value: kept, encoding: "utf8", bytes: Buffer.byteLength(kept) });
    // Split across chunks, as a pipe delivers it.
    expect((await readSecretInput({ stdin: stdin("pa", "rt", "s\n") })).value).toBe("parts");
  });

  it("a file: byte for byte, final newline included", async () => {
    writeFileSync(join(dir, "v.txt"), "line\n");
    expect(await readSecretInput({ fromFile: join(dir, "v.txt"), stdin: stdin("ignored") })).toEqual({
      value: "line\n",
      encoding: "utf8",
      bytes: 5,
    });
  });

  it("bytes that are not UTF-8 go as base64, unchanged", async () => {
    const bytes = Buffer.from([0xff, 0x00, 0x0a, 0xc3, 0x28]);
    writeFileSync(join(dir, "b.bin"), bytes);
    const got = await readSecretInput({ fromFile: join(dir, "b.bin"), stdin: stdin() });
    expect(got.encoding).toBe("base64");
    expect(Buffer.from(got.value, "base64").equals(bytes)).toBe(true);
  });

  it("refuses a terminal, nothing, too much; errors never hold the bytes", async () => {
    const tty = Object.assign(Readable.from([]), { isTTY: true });
    expect((await fails(readSecretInput({ stdin: tty }))).code).toBe("ERR_USAGE");
    expect((await fails(readSecretInput({ stdin: stdin("\n") }))).code).toBe("ERR_VALIDATION");
    const big = "s3cr3t".repeat(12_000);
    const e = await fails(readSecretInput({ stdin: stdin(big) }));
    expect(e.code).toBe("ERR_VALIDATION");
    expect(JSON.stringify([e.message, e.hint, e.details])).not.toContain("s3cr3t");
    writeFileSync(join(dir, "big"), big);
    expect((await fails(readSecretInput({ fromFile: join(dir, "big"), stdin: stdin() }))).message).toMatch(/larger than 65536 bytes/);
    writeFileSync(join(dir, "empty"), "");
    expect((await fails(readSecretInput({ fromFile: join(dir, "empty"), stdin: stdin() }))).message).toBe(
      `The value is empty (${join(dir, "empty")} is empty).`,
    );
    expect((await fails(readSecretInput({ fromFile: join(dir, "missing"), stdin: stdin() }))).code).toBe("ERR_NOT_FOUND");
  });

  it("a device that never ends (/dev/zero) is refused after the limit, not read until memory runs out; a directory is named", async () => {
    const e = await fails(readSecretInput({ fromFile: "/dev/zero", stdin: stdin() }));
    expect([e.code, e.message]).toEqual(["ERR_VALIDATION", expect.stringContaining("larger than")]);
    const d = await fails(readSecretInput({ fromFile: dir, stdin: stdin() }));
    expect([d.code, d.message]).toEqual(["ERR_VALIDATION", `${dir} is a directory.`]);
  });

  it("exactly the limit passes, with one trailing newline on stdin on top", async () => {
    const max = "x".repeat(64 * 1024);
    expect((await readSecretInput({ stdin: stdin(max + "\n") })).bytes).toBe(64 * 1024);
  });

  it("a FIFO nobody writes to, or whose writer stays silent, is refused by name after the wait instead of hanging in open()", async () => {
    const fifo = join(dir, "fifo");
    execFileSync("mkfifo", [fifo]);
    const none = await fails(readSecretInput({ fromFile: fifo, stdin: stdin(), waitMs: 100 }));
    expect([none.code, none.message]).toEqual([
      "ERR_VALIDATION",
      `${fifo} is a pipe and nothing was written to it within 0.1 s; giving up.`,
    ]);
    // A writer that opened it and sent part of a value, then nothing (no end either).
    const reading = fails(readSecretInput({ fromFile: fifo, stdin: stdin(), waitMs: 100 }));
    const w = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
    try {
      writeSync(w, "s3cr3t-part");
      const silent = await reading;
      expect([silent.code, silent.message]).toEqual([
        "ERR_VALIDATION",
        `${fifo} is a pipe that sent part of a value, then nothing for 0.1 s without ending; giving up.`,
      ]);
      expect(JSON.stringify([silent.message, silent.hint, silent.details])).not.toContain("s3cr3t");
    } finally {
      closeSync(w);
    }
  });

  it("a FIFO whose writer comes after the read began: its bytes, to the writer's end", async () => {
    const fifo = join(dir, "fifo-late");
    execFileSync("mkfifo", [fifo]);
    const reading = readSecretInput({ fromFile: fifo, stdin: stdin(), waitMs: 5000 });
    await new Promise((r) => setTimeout(r, 60));
    const w = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
    writeSync(w, "la");
    await new Promise((r) => setTimeout(r, 60));
    writeSync(w, "te\n");
    closeSync(w);
    expect(await reading).toEqual({ value: "late\n", encoding: "utf8", bytes: 5 });
  });

  it("a socket is refused by name", async () => {
    const sock = join(dir, "sock");
    const server = createServer();
    await new Promise<void>((done) => server.listen(sock, done));
    try {
      const e = await fails(readSecretInput({ fromFile: sock, stdin: stdin() }));
      expect([e.code, e.message]).toEqual(["ERR_VALIDATION", `${sock} is a socket, not a file.`]);
    } finally {
      server.close();
    }
  });

  it("pipes a shell makes still work: --from-file /dev/stdin on a pipe, <(command), and an empty <(true) is empty at once", () => {
    const script = join(dir, "read.ts");
    writeFileSync(
      script,
      `import { readSecretInput } from ${JSON.stringify(join(import.meta.dirname, "read-secret-input.ts"))};
readSecretInput({ fromFile: process.argv[2], stdin: process.stdin, waitMs: 3_000 }).then(
  (v) => console.log(JSON.stringify(v.value)),
  (e) => console.log(e.code, e.message),
);
`,
    );
    const run = (shell: string) =>
      execFileSync("bash", ["-c", shell.replaceAll("NODE", `'${process.execPath}' '${script}'`)], { encoding: "utf8" }).trim();
    expect(run("printf 'piped\\n' | NODE /dev/stdin")).toBe('"piped\\n"');
    expect(run("NODE <(sleep 0.2; printf 'sub\\n')")).toBe('"sub\\n"');
    // Its writer may be gone before the read: that is the end, not a FIFO to wait for.
    expect(run("NODE <(true)")).toMatch(/^ERR_VALIDATION The value is empty \(\/dev\/fd\/\d+ is empty\)\.$/);
  });
});
