// The agent's token as `cbo mcp` picks it (src/mcp/token.ts with the CLI's token-file reader).
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readTokenFile } from "../token-file.ts";
import { agentToken as agentTokenWith, tokenRole } from "../../mcp/token.ts";

// With the CLI's token-file reader, as `cbo mcp` passes it.
const agentToken = (o: { tokenFile?: string; env: Record<string, string | undefined> }) => agentTokenWith({ ...o, readTokenFile });

const dir = mkdtempSync(join(tmpdir(), "cbo-mcp-token-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("agentToken", () => {
  it("needs --token-file, CBO_TOKEN_FILE or CBO_TOKEN; nothing else is picked up", () => {
    expect(() => agentToken({ env: {} })).toThrow(/--token-file FILE, or set CBO_TOKEN_FILE or CBO_TOKEN/);
  });

  it("an agent token from the environment: no warning", () => {
    expect(agentToken({ env: { CBO_TOKEN: "cbo_agent_abcdefghijkl\n" } })).toEqual({
      token: "cbo_agent_abcdefghijkl",
      source: "CBO_TOKEN",
      warnings: [],
    });
  });

  it("warns about an admin token and another role; refuses a token file others can read; --token-file, then CBO_TOKEN_FILE, then CBO_TOKEN", () => {
    expect(agentToken({ env: { CBO_TOKEN: "cbo_admin_abcdefghijkl" } }).warnings[0]).toMatch(/admin token/);
    expect(agentToken({ env: { CBO_TOKEN: "cbo_deployer_abcdefghijkl" } }).warnings[0]).toMatch(/deployer token/);
    const open = join(dir, "open-token");
    writeFileSync(open, "cbo_agent_fromopenfile1\n", { mode: 0o644 });
    const refused = (() => {
      try {
        agentToken({ tokenFile: open, env: {} });
      } catch (e) {
        return e as Error & { code: string; hint: string };
      }
    })();
    expect(refused).toMatchObject({ code: "ERR_VALIDATION", hint: `chmod 600 ${open}` });
    expect(refused!.message).not.toContain("fromopenfile");
    const file = join(dir, "token");
    writeFileSync(file, "cbo_agent_fromfile1234\n", { mode: 0o600 });
    const envFile = join(dir, "env-token");
    writeFileSync(envFile, "cbo_agent_fromenvfile12\n", { mode: 0o600 });
    const both = { CBO_TOKEN_FILE: envFile, CBO_TOKEN: "cbo_agent_fromenv12345" };
    expect(agentToken({ tokenFile: file, env: both })).toMatchObject({
      token: "cbo_agent_fromfile1234",
      source: "--token-file",
      warnings: [],
    });
    expect(agentToken({ env: both })).toMatchObject({ token: "cbo_agent_fromenvfile12", source: "CBO_TOKEN_FILE" });
    expect(agentToken({ env: { CBO_TOKEN: "cbo_agent_fromenv12345" } })).toMatchObject({ source: "CBO_TOKEN" });
  });

  it("refuses a FIFO as the token file at once (opening one blocked until a writer came), and a big file", () => {
    const fifo = join(dir, "fifo-token");
    execFileSync("mkfifo", ["-m", "600", fifo]);
    expect(() => readTokenFile(fifo, "--token-file")).toThrow(`The token file ${fifo} (--token-file) is not a regular file.`);
    const big = join(dir, "big-token");
    writeFileSync(big, "x".repeat(100_000), { mode: 0o600 });
    expect(() => readTokenFile(big, "--token-file")).toThrow(/is 100000 bytes; a token file holds one token/);
  });

  it("reads the role from the token's prefix only", () => {
    expect(tokenRole("cbo_viewer_x")).toBe("viewer");
    expect(tokenRole("something-else")).toBeUndefined();
  });
});
