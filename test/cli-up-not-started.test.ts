// `cbo up` with a Worker that cannot be released (its main module is missing): the others are
// released, and the summary says on one line why that one was not started and what to do (the
// error's hint), rather than a message broken over lines with no next step. The real binary.
import { rmSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTempDir } from "./support/edge.ts";
import { startCbo } from "./support/run-cbo.ts";
import { writeTinyFleet } from "./support/tiny-fleet.ts";

async function upUntilBanner(dir: string, data: string) {
  const up = startCbo(["up", "--data", data, "--port", "0", "--edge-port", "0", "--regions", "eu"], { cwd: dir });
  try {
    const deadline = Date.now() + 90_000;
    while (!up.output.stdout.includes("(Ctrl-C stops)")) {
      if (up.exitCode !== null || Date.now() > deadline)
        throw new Error(`cbo up did not come up:\n${up.output.stdout}\n${up.output.stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    up.kill("SIGTERM");
    await up.done;
  }
  return up.output;
}

describe("cbo up with a Worker that does not bundle", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await makeTempDir("up-not-started");
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("releases the others and names why, and what to do, on the broken one's summary line", { timeout: 120_000 }, async () => {
    writeTinyFleet(dir);
    writeFileSync(join(dir, "orchestrator.yaml"), "  - { name: broken, main: missing.js }\n", { flag: "a" });
    const out = await upUntilBanner(dir, join(dir, "data"));
    const lines = out.stdout.split("\n");
    expect(lines.find((l) => l.startsWith("  tiny "))).toMatch(/^ {2}tiny +succeeded /);
    const broken = lines.find((l) => l.startsWith("  broken "));
    expect(broken).toMatch(
      /^ {2}broken +not started \(Cannot bundle worker broken: .*missing\.js.*; Fix the source at the place named above, then release again\.\) +-$/,
    );
  });
});

describe("cbo up on a data directory without its admin-token file (restored from a backup)", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await makeTempDir("up-no-token");
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("releases nothing, says so once with the way on, and each Worker's line says why", { timeout: 180_000 }, async () => {
    writeTinyFleet(dir);
    const data = join(dir, "data");
    await upUntilBanner(dir, data);
    rmSync(join(data, "admin-token"));
    const out = await upUntilBanner(dir, data);
    expect(out.stderr).toContain(
      `cbo: releasing nothing: ${data} holds no admin token; make one (below), then npx cbo release <worker> --data ${data}`,
    );
    expect(out.stdout).toMatch(/^ {2}tiny +not started \(no admin token to release with\) +-$/m);
    expect(out.stdout).toContain(`npx cbo tokens create --offline --data ${data} --name admin --role admin`);
    expect(out.stdout + out.stderr).not.toContain("This endpoint needs a bearer token");
  });
});
