import { describe, expect, it } from "vitest";
import type { ResolvedSpec } from "../config/load.ts";
import { GateSchema } from "../config/schema.ts";
import { KitOverridesSchema, kitFacts } from "./facts.ts";

function specFor(targets: ResolvedSpec["targets"], file = "/srv/project/orchestrator.yaml"): ResolvedSpec {
  return {
    tenant: "acme",
    file,
    targets,
    workers: [
      {
        tenant: "acme",
        name: "api",
        entry: "/srv/project/api/src/index.ts",
        root: "/srv/project",
        compatibilityDate: "2025-01-01",
        compatibilityFlags: [],
        vars: {},
        kv: {},
        services: {},
        secrets: ["STRIPE_KEY"],
        agent: true,
        drift: "report",
        targets: targets.map((t) => t.name),
        waves: [targets.map((t) => t.name)],
        steps: [100],
        gate: GateSchema.parse({}),
      },
      {
        tenant: "acme",
        name: "elsewhere",
        entry: "/opt/other/index.ts",
        root: "/opt/other",
        compatibilityDate: "2025-01-01",
        compatibilityFlags: [],
        vars: {},
        kv: {},
        services: {},
        secrets: [],
        agent: false,
        drift: "report",
        targets: [targets[0]!.name],
        waves: [[targets[0]!.name]],
        steps: [100],
        gate: GateSchema.parse({}),
      },
    ],
  };
}

const product = { name: "clawdbot-orchestrator", version: "0.1.0" };

describe("kit facts", () => {
  it("defaults the VPS layout and reads targets, regions and workers from the spec", () => {
    const f = kitFacts(
      specFor([
        { name: "eu", api: "local", jurisdiction: "eu" },
        { name: "us", api: "local", region: "eu" },
        { name: "cf", api: "https://api.cloudflare.com/client/v4", account_id: "a".repeat(32) },
      ]),
      product,
    );
    expect(f).toMatchObject({
      port: 8700,
      edgePort: 8780,
      dataDir: "/var/lib/cbo",
      installDir: "/opt/cbo",
      etcDir: "/etc/cbo",
      configFile: "/opt/cbo/config/orchestrator.yaml",
      tunnel: null,
      user: "cbo",
    });
    // Two local targets on one region: the edge serves it once.
    expect(f.localRegions).toEqual(["eu"]);
    expect(f.targets.map((t) => [t.name, t.local, t.accountId])).toEqual([
      ["eu", true, null],
      ["us", true, null],
      ["cf", false, "a".repeat(32)],
    ]);
    expect(f.workers.map((w) => [w.name, w.source, w.insideConfig])).toEqual([
      ["api", "api/src/index.ts", true],
      ["elsewhere", "../../opt/other/index.ts", false],
    ]);
  });

  it("takes the operator's choices and refuses values that could break out of a script or unit file", () => {
    const spec = specFor([{ name: "eu", api: "local" }]);
    const f = kitFacts(spec, product, {
      port: 9000,
      dataDir: "/srv/cbo/data/",
      installDir: "/srv/cbo/app",
      tunnelHostname: "cbo.example.com",
    });
    expect(f).toMatchObject({
      port: 9000,
      dataDir: "/srv/cbo/data",
      configFile: "/srv/cbo/app/config/orchestrator.yaml",
      tunnel: { hostname: "cbo.example.com" },
    });
    for (const bad of [
      { dataDir: "relative/dir" },
      { dataDir: "/var/lib/cbo; rm -rf /" },
      { dataDir: "/var/lib/$(id)" },
      { installDir: "/opt/../etc" },
      { etcDir: "/etc/c bo" },
      { dataDir: "/var/lib/cbo\nExecStartPre=/bin/sh" },
      { tunnelHostname: "evil.com\nx" },
      { tunnelHostname: "https://cbo.example.com" },
      { port: 0 },
      { port: 70_000 },
    ]) {
      expect(() => kitFacts(spec, product, bad as never), JSON.stringify(bad)).toThrow();
    }
    // Ports end at 65535; the local edge's regions take the ports after its API port.
    expect(kitFacts(spec, product, { port: 65_535, edgePort: 65_534 })).toMatchObject({ port: 65_535, edgePort: 65_534 });
    expect(() => kitFacts(spec, product, { edgePort: 65_535 })).toThrow(/edgePort 65535 leaves no room for the 1 region port/);
    expect(
      kitFacts(specFor([{ name: "cf", api: "https://api.cloudflare.com/client/v4", account_id: "a".repeat(32) }]), product, {
        edgePort: 65_535,
      }).edgePort,
    ).toBe(65_535);
    expect(KitOverridesSchema.safeParse({ port: "8701" }).data).toEqual({ port: 8701 });
    expect(KitOverridesSchema.safeParse({ secret: "x" }).success).toBe(false);
  });
});
