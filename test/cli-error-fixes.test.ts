// Errors that name their fix, as the real `cbo` binary prints them from the real daemon
// (startDaemon on a real one-region local edge): a Worker that does not bundle names the file,
// line and what to do; a Worker whose secret is not in the vault names the secret and the
// `cbo secrets set` that fixes it. The daemon's hint crosses the API (`error.hint`) to the CLI, and
// --json carries it too.
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDaemon, type Daemon } from "../src/daemon.ts";
import { makeTempDir, startTestEdge, type TestEdge } from "./support/edge.ts";
import { runCbo } from "./support/run-cbo.ts";

const SPEC = `version: 1
targets:
  - { name: eu, api: local }
workers:
  - name: broken
    main: broken.js
    compatibility_date: "2025-01-01"
  - name: needy
    main: needy.js
    compatibility_date: "2025-01-01"
    secrets: [STRIPE_KEY]
`;

describe("errors that say how to fix them", () => {
  let t: TestEdge;
  let dir: string;
  let daemon: Daemon;
  const cbo = (args: string[]) => runCbo([...args, "--data", join(dir, "data")], { cwd: dir, timeoutMs: 60_000 });

  beforeAll(async () => {
    t = await startTestEdge({ regions: ["eu"] });
    dir = await makeTempDir("error-fixes");
    writeFileSync(join(dir, "broken.js"), "export default {\n  fetch() {\n    return new Response('hi';\n  },\n};\n");
    writeFileSync(join(dir, "needy.js"), "export default { fetch(r, env) { return new Response(env.STRIPE_KEY ? 'ok' : 'no'); } };\n");
    writeFileSync(join(dir, "orchestrator.yaml"), SPEC);
    daemon = await startDaemon({
      dataDir: join(dir, "data"),
      configFile: join(dir, "orchestrator.yaml"),
      edge: t.edge,
      port: 0,
      env: { CBO_MASTER_KEY: randomBytes(32).toString("base64") },
      log: () => {},
    });
  });
  afterAll(async () => {
    await daemon?.close();
    await t?.dispose();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("a Worker that does not bundle: the file and line, and what to do", async () => {
    const r = await cbo(["release", "broken"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error ERR_VALIDATION: Cannot bundle worker broken:\n/);
    expect(r.stderr).toContain(`${join(dir, "broken.js")}:3:`);
    expect(r.stderr).toMatch(/\nhint: Fix the source at the place named above, then release again\.\n/);
    const json = JSON.parse((await cbo(["plan", "broken", "--json"])).stdout) as {
      error: { code: string; hint: string; details: { errors: Array<{ file: string; line: number }> } };
    };
    expect(json.error).toMatchObject({ code: "ERR_VALIDATION", hint: expect.stringMatching(/^Fix the source/) });
    expect(json.error.details.errors[0]).toMatchObject({ file: join(dir, "broken.js"), line: 3 });
  });

  it("a secret the vault does not hold: which one, and the command that sets it", async () => {
    const r = await cbo(["release", "needy"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error ERR_VALIDATION: Worker needy uses secret\(s\) STRIPE_KEY, which the vault does not hold/);
    expect(r.stderr).toMatch(/\nhint: Set each with: (npx )?cbo secrets set STRIPE_KEY /);
    const plan = await cbo(["plan", "needy"]);
    expect(plan.stderr).toContain("hint: Set each with: npx cbo secrets set STRIPE_KEY");
  });
});

describe("cbo run from a subdirectory of the project", () => {
  let project: string;
  beforeAll(async () => {
    project = await makeTempDir("project-subdir");
    mkdirSync(join(project, ".cbo"));
    writeFileSync(join(project, ".cbo", "daemon.json"), JSON.stringify({ url: "http://127.0.0.1:1", pid: 1 }));
    mkdirSync(join(project, "examples", "ads-api"), { recursive: true });
  });
  afterAll(async () => {
    if (project) await rm(project, { recursive: true, force: true });
  });

  it("says where the project's daemon file is and how to reach it (npx says where the project is)", async () => {
    // What npx sets for a command run in the project: the project's directory.
    const r = await runCbo(["status"], { cwd: join(project, "examples", "ads-api"), env: { npm_config_local_prefix: project } });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(
      `error ERR_IO: No daemon found: ${join(project, "examples", "ads-api", ".cbo", "daemon.json")} does not exist.`,
    );
    expect(r.stderr).toContain(
      `hint: the project's daemon writes ${join(project, ".cbo", "daemon.json")}: run this from ${project}, or pass --data ${join(project, ".cbo")}`,
    );
  });
});
