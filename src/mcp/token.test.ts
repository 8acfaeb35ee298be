import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { agentToken, tokenRole } from "./token.ts";

const dir = mkdtempSync(join(tmpdir(), "cbo-mcp-token-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("agentToken", () => {
  it("needs CBO_TOKEN or --token-file; nothing else is picked up", () => {
    expect(() => agentToken({ env: {} })).toThrow(/CBO_TOKEN or pass --token-file/);
  });

  it("an agent token from the environment: no warning", () => {
    expect(agentToken({ env: { CBO_TOKEN: "cbo_agent_abcdefghijkl\n" } })).toEqual({
      token: "cbo_agent_abcdefghijkl",
      source: "CBO_TOKEN",
      warnings: [],
    });
  });

  it("warns about an admin token, another role, and a token file others can read; the file wins over the environment", () => {
    expect(agentToken({ env: { CBO_TOKEN: "cbo_admin_abcdefghijkl" } }).warnings[0]).toMatch(/admin token/);
    expect(agentToken({ env: { CBO_TOKEN: "cbo_deployer_abcdefghijkl" } }).warnings[0]).toMatch(/deployer token/);
    const file = join(dir, "token");
    writeFileSync(file, "cbo_agent_fromfile1234\n", { mode: 0o644 });
    const t = agentToken({ tokenFile: file, env: { CBO_TOKEN: "cbo_agent_fromenv12345" } });
    expect(t).toMatchObject({ token: "cbo_agent_fromfile1234", source: "--token-file" });
    expect(t.warnings.join("\n")).toMatch(/chmod 600/);
    expect(t.warnings.join("\n")).not.toContain("fromfile");
  });

  it("reads the role from the token's prefix only", () => {
    expect(tokenRole("cbo_viewer_x")).toBe("viewer");
    expect(tokenRole("something-else")).toBeUndefined();
  });
});
