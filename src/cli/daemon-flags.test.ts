import { describe, expect, it } from "vitest";
import { CboError } from "../kit/errors.ts";
import { parse } from "./args.ts";
import { DAEMON_FLAGS, positionalsAs } from "./daemon-flags.ts";

/** A command's usage, as the hint of its argument errors (cbo release's, say). */
const RELEASE_USAGE = "usage: cbo release <worker> [--no-wait] [--url URL] [--token-file FILE] [--data DIR] [--json]";

describe("command arguments", () => {
  it("takes exactly the named positionals", () => {
    expect(positionalsAs(["hello"], ["worker"], "u")).toEqual({ worker: "hello" });
    for (const [args, message] of [
      [[], "Missing <worker>."],
      [["a", "b"], 'Unexpected argument "b".'],
    ] as const) {
      try {
        positionalsAs([...args], ["worker"], RELEASE_USAGE);
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(CboError);
        expect([(e as CboError).code, (e as CboError).message, (e as CboError).hint]).toEqual(["ERR_USAGE", message, RELEASE_USAGE]);
      }
    }
  });
  it("parses the daemon flags next to --json and refuses unknown ones", () => {
    const { values, positionals } = parse(
      ["hello", "--url", "http://x", "--token", "t", "--token-file", "f", "--data", "d", "--json"],
      DAEMON_FLAGS,
      "u",
    );
    expect(values).toMatchObject({ url: "http://x", token: "t", "token-file": "f", data: "d", json: true });
    expect(positionals).toEqual(["hello"]);
    expect(() => parse(["--nope"], DAEMON_FLAGS, "u")).toThrowError(/^Unknown flag --nope\.$/);
  });
});
