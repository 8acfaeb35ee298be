import { afterEach, describe, expect, it, vi } from "vitest";
import { CboError } from "../kit/errors.ts";
import { printError } from "./output.ts";

const TOKEN = "cbo_admin_Zk3qP0vX9mT2rW8yL5nB7cJ4hD6fG1sA";

describe("printError", () => {
  afterEach(() => vi.restoreAllMocks());

  it("masks a token an error echoes back (a token pasted as a flag's value), as text, as --json and with --debug", () => {
    let out = "";
    const write = (s: string | Uint8Array) => ((out += String(s)), true);
    vi.spyOn(process.stderr, "write").mockImplementation(write);
    vi.spyOn(process.stdout, "write").mockImplementation(write);
    const e = new CboError("ERR_USAGE", `--url is not a URL: "${TOKEN}".`, { hint: `not ${TOKEN}`, details: { got: TOKEN } });
    expect([printError(e, true), printError(e, false, true)]).toEqual([1, 1]);
    expect(out).toContain('--url is not a URL: "cbo_admin_[redacted]"');
    expect(out).toContain('"got":"cbo_admin_[redacted]"');
    expect(out).not.toContain(TOKEN.slice(10));
  });
});
