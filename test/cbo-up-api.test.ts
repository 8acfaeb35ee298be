// `cbo up` releases through the daemon's API, like any client: with the admin token, so that each
// release it starts is on the audit record as requested (release.create, stage requested) by that
// token, before the engine's own entries. Runs the real binary with its own edge and daemon.
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { writeTinyFleet } from "./support/tiny-fleet.ts";
import { makeTempDir } from "./support/edge.ts";
import { startCbo } from "./support/run-cbo.ts";

type Entry = { seq: number; actor: string; action: string; target: string | null; details: Record<string, unknown> };

describe("cbo up", () => {
  it("releases through the API with the admin token: the release is on the audit record as requested", { timeout: 90_000 }, async () => {
    const dir = await makeTempDir("up-api");
    mkdirSync(dir, { recursive: true });
    writeTinyFleet(dir);
    const up = startCbo(
      [
        "up",
        "--json",
        "--config",
        join(dir, "orchestrator.yaml"),
        "--data",
        join(dir, "data"),
        "--port",
        "0",
        "--edge-port",
        "0",
        "--regions",
        "eu",
      ],
      { cwd: dir },
    );
    try {
      const deadline = Date.now() + 60_000;
      while (!up.output.stdout.includes("\n")) {
        if (up.exitCode !== null || Date.now() > deadline)
          throw new Error(`cbo up did not come up:\n${up.output.stdout}\n${up.output.stderr}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const out = JSON.parse(up.output.stdout.split("\n")[0]!) as {
        apiUrl: string;
        adminTokenFile: string;
        releases: Array<{ worker: string; release: string; status: string }>;
      };
      expect(out.releases).toMatchObject([{ worker: "tiny", status: "succeeded" }]);
      const token = readFileSync(out.adminTokenFile, "utf8").trim();
      const get = async <T>(path: string): Promise<T> => {
        const res = await fetch(`${out.apiUrl}${path}`, { headers: { authorization: `Bearer ${token}` } });
        expect(res.status, path).toBe(200);
        return (await res.json()) as T;
      };
      // Started by the admin token, through POST /v1/releases.
      const [release] = (await get<{ items: Array<{ id: string; created_by: string | null }> }>("/v1/releases?worker=tiny")).items;
      expect(release).toMatchObject({ id: out.releases[0]!.release, created_by: "initial admin" });
      const tokens = await get<Array<{ id: string; name: string }>>("/v1/tokens");
      const admin = tokens.find((t) => t.name === "initial admin")!;
      const entries = (await get<{ items: Entry[] }>("/v1/audit?limit=1000")).items.sort((a, b) => a.seq - b.seq);
      const requested = entries.filter((e) => e.action === "release.create" && e.details.stage === "requested");
      expect(requested).toMatchObject([{ actor: `token:initial admin:${admin.id}`, target: "worker:tiny" }]);
      // The API's entry comes first, then the engine's account of the same release.
      const engine = entries.find((e) => e.action === "release.created" && e.target === `release:${release!.id}`);
      expect(engine).toBeDefined();
      expect(requested[0]!.seq).toBeLessThan(engine!.seq);
    } finally {
      up.kill("SIGTERM");
      await up.done;
    }
  });
});
