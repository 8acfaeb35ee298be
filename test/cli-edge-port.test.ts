// `cbo edge --port 0`, as every test harness starts a server: the real binary takes free ports for
// the API and each region and prints them in its JSON line; both answer on them. Ports up to 65535
// are valid, and a port that leaves no room for the regions after it is refused before anything
// starts.
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { makeTempDir } from "./support/edge.ts";
import { eventually, httpGet } from "./support/http.ts";
import { runCbo, startCbo } from "./support/run-cbo.ts";

type Printed = {
  apiUrl: string;
  adminUrl: string;
  tokenFile: string;
  regions: Array<{ name: string; accountId: string; publicUrl: string; workerUrl: string }>;
};

describe("cbo edge --port", () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it("0 takes free ports for the API and every region, prints them, and serves on them", async () => {
    const data = await makeTempDir("edge-port0");
    dirs.push(data);
    const child = startCbo(["edge", "--port", "0", "--data", data, "--regions", "eu,us"]);
    try {
      const line = await eventually(async () => {
        const first = child.output.stdout.split("\n")[0];
        if (!first || !child.output.stdout.includes("\n")) throw new Error(`no line yet; stderr: ${child.output.stderr.slice(-300)}`);
        return first;
      }, 60_000);
      const printed = JSON.parse(line) as Printed;
      const apiPort = Number(new URL(printed.apiUrl).port);
      const regionPorts = printed.regions.map((r) => Number(new URL(r.publicUrl).port));
      expect(printed.regions.map((r) => r.name)).toEqual(["eu", "us"]);
      for (const p of [apiPort, ...regionPorts]) expect(p).toBeGreaterThan(0);
      expect(new Set([apiPort, ...regionPorts]).size).toBe(3);
      expect(printed.regions.map((r) => r.workerUrl)).toEqual(regionPorts.map((p) => `http://<worker>.localhost:${p}/`));
      // The API answers on its printed port with the printed token file's token …
      const token = readFileSync(printed.tokenFile, "utf8").trim();
      const accounts = await fetch(`${printed.apiUrl}/accounts`, { headers: { authorization: `Bearer ${token}` } });
      expect(accounts.status).toBe(200);
      expect(((await accounts.json()) as { result: Array<{ id: string }> }).result.map((a) => a.id).sort()).toEqual(
        printed.regions.map((r) => r.accountId).sort(),
      );
      // … and each region's workerd on its own: no such Worker there yet, answered by the region's router.
      for (const port of regionPorts) expect((await httpGet(port, "nothing-here.localhost")).status).toBe(404);
      // edge.json (what `cbo daemon --edge` reads) holds the same ports.
      expect(JSON.parse(readFileSync(join(data, "edge.json"), "utf8"))).toMatchObject({
        apiUrl: printed.apiUrl,
        regions: printed.regions.map((r, i) => ({ name: r.name, port: regionPorts[i] })),
      });
    } finally {
      child.kill("SIGINT");
    }
    expect((await child.done).code).toBe(0);
  });

  it("accepts ports up to 65535 and refuses what is not a port, or leaves no room for the regions, before starting", async () => {
    const data = await makeTempDir("edge-port-bad");
    dirs.push(data);
    const tooBig = await runCbo(["edge", "--port", "65536", "--data", data]);
    expect(tooBig.code).toBe(1);
    expect(tooBig.stderr).toContain('error ERR_USAGE: --port must be a whole number from 0 to 65535 (got "65536")');
    // 65535 is a port, but three regions would need 65536..65538.
    const noRoom = await runCbo(["edge", "--port", "65535", "--data", data]);
    expect(noRoom.code).toBe(1);
    expect(noRoom.stderr).toContain(
      "error ERR_VALIDATION: Port 65535 leaves no room for the 3 region port(s) after it (up to 65538; ports end at 65535).",
    );
    expect(noRoom.stderr).toContain("Use a port up to 65532, or 0 for free ports.");
    expect(noRoom.stdout).toBe("");
  });
});
