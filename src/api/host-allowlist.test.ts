import { describe, expect, it } from "vitest";
import { createHostPolicy, hostName, parseAllowedHosts } from "./host-allowlist.ts";

describe("the Host allowlist", () => {
  it("reads a Host header's name without port, brackets, case or trailing dot", () => {
    expect(hostName("127.0.0.1:8700")).toBe("127.0.0.1");
    expect(hostName("[::1]:8700")).toBe("::1");
    expect(hostName("[::1]")).toBe("::1");
    expect(hostName("Orch.Example.COM.")).toBe("orch.example.com");
    for (const bad of [undefined, "", "a b", "host:port", "[::1", "[::1]x", "évil.example", "x:1:2"]) expect(hostName(bad)).toBeUndefined();
  });

  it("answers loopback, the tunnel's hostnames (as they are now) and the configured extras; nothing else", () => {
    let tunnel: string[] = [];
    const p = createHostPolicy({ tunnelHosts: () => tunnel, extraHosts: ["Ops.Example.net", "not a host"] });
    for (const ok of ["localhost", "localhost:8700", "127.0.0.1:8700", "127.1.2.3", "[::1]:1", "ops.example.net:443"])
      expect(p.allows(ok)).toBe(true);
    for (const no of [
      "attacker.example",
      "attacker.example:8700",
      "cbo.example.test",
      "localhost.attacker.example",
      "127.0.0.1.nip.io",
      "0.0.0.0",
      undefined,
      "",
    ])
      expect(p.allows(no)).toBe(false);
    tunnel = ["cbo.example.test", "edge.example.test"];
    expect(p.allows("cbo.example.test")).toBe(true);
    expect(p.allows("EDGE.example.test:443")).toBe(true);
    expect(p.allows("attacker.example")).toBe(false);
  });

  it("parses CBO_ALLOWED_HOSTS", () => {
    expect(parseAllowedHosts(" a.example, b.example  c.example,,")).toEqual(["a.example", "b.example", "c.example"]);
    expect(parseAllowedHosts(undefined)).toEqual([]);
  });
});
