// A command run while the real `cbo up` is still starting (its edge and daemon not answering yet)
// says that the daemon is starting and to wait; once `cbo up` is up, the same command works and
// the marker is gone. A second `cbo up` meanwhile is refused.
import { existsSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect } from "../src/cli/connect.ts";
import { markStarting } from "../src/cli/starting.ts";
import { isCboError } from "../src/kit/errors.ts";
import { makeTempDir } from "./support/edge.ts";
import { startCbo } from "./support/run-cbo.ts";
import { writeTinyFleet } from "./support/tiny-fleet.ts";

describe("a command while cbo up starts", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await makeTempDir("up-starting");
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("says the daemon is starting and to wait; works once it is up", { timeout: 120_000 }, async () => {
    writeTinyFleet(dir);
    const data = join(dir, "data");
    const up = startCbo(["up", "--data", data, "--port", "0", "--edge-port", "0", "--regions", "eu"], { cwd: dir });
    try {
      const deadline = Date.now() + 90_000;
      const seen: string[] = [];
      while (!up.output.stdout.includes("(Ctrl-C stops)")) {
        if (up.exitCode !== null || Date.now() > deadline)
          throw new Error(`cbo up did not come up:\n${up.output.stdout}\n${up.output.stderr}`);
        if (seen.length === 0 && existsSync(join(data, "starting.json"))) {
          // connect() itself refuses when there is no daemon.json yet; status() when it does not answer.
          await Promise.resolve()
            .then(() => connect({ data }).status())
            .then(
              () => seen.push("answered"),
              (e: unknown) => seen.push(isCboError(e) ? `${e.code}: ${e.message} / ${e.hint}` : String(e)),
            );
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(seen[0]).toMatch(
        new RegExp(`^ERR_IO: The daemon of ${data} is still starting \\(\`cbo up\`, pid ${up.pid}, for \\d+ s so far\\)\\. / wait until`),
      );
      expect(existsSync(join(data, "starting.json"))).toBe(false);
      expect((await connect({ data }).status()).workers.map((w) => w.name)).toEqual(["tiny"]);
    } finally {
      up.kill("SIGTERM");
      await up.done;
    }
  });
});

describe("a second cbo up while the first starts", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await makeTempDir("up-starting-twice");
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("is refused naming the first, before it writes anything", { timeout: 60_000 }, async () => {
    writeTinyFleet(dir);
    const data = join(dir, "data");
    // The first `cbo up`, as it marks its start: this test process stands in for its pid (alive).
    const done = markStarting(data);
    try {
      const second = await startCbo(["up", "--data", data, "--port", "0", "--edge-port", "0", "--regions", "eu"], { cwd: dir }).done;
      expect(second.code).toBe(1);
      expect(second.stderr).toContain(`error ERR_CONFLICT: A \`cbo up\` (pid ${process.pid}) is already starting the daemon of ${data}.`);
      expect(existsSync(join(data, "edge"))).toBe(false);
    } finally {
      done();
    }
  });
});
