// The OpenClaw/Clawdbot skill (skills/cf-orchestrator/SKILL.md): its frontmatter parses as YAML
// with the fields OpenClaw reads (name, description, metadata.openclaw.requires.env), it ships no
// scripts and no secrets, every API call it teaches exists in the daemon's route list with a role
// an `agent` token has, every MCP tool it names is one `cbo mcp` serves (and it names them all),
// and every `cbo` command it tells the user to run exists with the flags it gives.
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import * as z from "zod";
import { ROLE_RANK } from "../src/api/auth.ts";
import { isCommand, namesSubcommand, usageOf, type CommandName } from "../src/cli/usage/index.ts";
import { MCP_TOOLS } from "../src/mcp/server.ts";
import { startApiFixture, type ApiFixture } from "./support/api-fixtures.ts";

const DIR = fileURLToPath(new URL("../skills/cf-orchestrator/", import.meta.url));
const text = readFileSync(`${DIR}SKILL.md`, "utf8");

/** The frontmatter fields OpenClaw reads (a missing or mistyped one fails the parse, naming it). */
const FrontmatterSchema = z.object({
  name: z.string(),
  description: z.string(),
  metadata: z.object({
    openclaw: z.object({ primaryEnv: z.string(), requires: z.object({ env: z.array(z.string()), bins: z.array(z.string()) }) }),
  }),
});

function frontmatter(md: string) {
  const m = /^---\n([^]*?)\n---\n/.exec(md);
  if (!m) throw new Error("SKILL.md has no frontmatter");
  return FrontmatterSchema.parse(parse(m[1]!));
}

/** `api [-X METHOD] "$CBO_URL/v1/…"` calls in the skill's shell blocks. */
function calls(md: string): Array<{ method: string; path: string }> {
  const out: Array<{ method: string; path: string }> = [];
  for (const m of md.matchAll(/\bapi (?:-X (GET|POST|PUT|DELETE) )?"\$CBO_URL(\/v1\/[^"?]*)[^"]*"/g))
    out.push({ method: m[1] ?? "GET", path: m[2]! });
  return out;
}

describe("skills/cf-orchestrator/SKILL.md", () => {
  it("has OpenClaw frontmatter: name, description, required env with the agent token as primary", () => {
    const fm = frontmatter(text);
    expect(fm.name).toBe("cf-orchestrator");
    expect(typeof fm.description).toBe("string");
    expect(fm.description.length).toBeGreaterThan(50);
    expect(fm.metadata.openclaw.requires.env).toEqual(expect.arrayContaining(["CBO_URL", "CBO_TOKEN"]));
    expect(fm.metadata.openclaw.primaryEnv).toBe("CBO_TOKEN");
    expect(fm.metadata.openclaw.requires.bins).toEqual(["curl"]);
  });

  it("names exactly the MCP tools `cbo mcp` serves, each as read-only or mutating as it is", () => {
    const section = text.slice(text.indexOf("## The MCP server alternative"));
    const [readPart, writePart] = section.split("its\nmutating tools are");
    const named = (part: string) => [...part!.matchAll(/`([a-z][a-z0-9_]*)`/g)].map((m) => m[1]!).filter((n) => !["confirm"].includes(n));
    const tools = new Map(MCP_TOOLS.map((t) => [t.name, t]));
    const reads = named(readPart!.slice(readPart!.indexOf("read-only tools are")));
    const writes = named(writePart!.slice(0, writePart!.indexOf("Mutating tools do nothing")));
    for (const n of [...reads, ...writes]) expect(tools.has(n), `the skill names an MCP tool "${n}" that does not exist`).toBe(true);
    expect(reads.filter((n) => tools.get(n)!.mutating)).toEqual([]);
    expect(writes.filter((n) => !tools.get(n)!.mutating)).toEqual([]);
    expect([...reads, ...writes].sort()).toEqual([...tools.keys()].sort());
  });

  it("every `cbo` command it names exists, with the flags it gives", () => {
    const commands = [...text.matchAll(/`cbo ([a-z][a-z-]*)((?: [a-z][a-z-]*)?)([^`]*)`/g)];
    expect(commands.length).toBeGreaterThan(4);
    for (const [whole, name, sub, rest] of commands) {
      expect(isCommand(name!), whole).toBe(true);
      const s = sub!.trim();
      // A word after the command is a subcommand, or an argument its synopsis takes (`cbo logs NAME`).
      if (s !== "") expect(namesSubcommand(name as CommandName, s), whole).toBe(true);
      const usage = usageOf(name as CommandName, s || undefined);
      for (const flag of rest!.match(/--[a-z][a-z-]*/g) ?? []) expect(usage, `${whole}: ${flag}`).toContain(flag);
    }
  });

  it("is script-free and holds no secret", () => {
    expect(readdirSync(DIR)).toEqual(["SKILL.md"]);
    expect(text).not.toMatch(/cbo_(admin|deployer|viewer|agent)_[A-Za-z0-9_-]{8,}/);
    expect(text).not.toMatch(/-----BEGIN [A-Z ]*PRIVATE KEY-----/);
    expect(text).not.toMatch(/Bearer [A-Za-z0-9_-]{16,}/);
    // Values travel through pipes, never on a command line, and never from the value endpoint.
    expect(text).not.toMatch(/"value": ?"[A-Za-z0-9+/=_-]{4,}/);
    expect(text).not.toMatch(/api [^\n]*\/v1\/secrets\/[A-Z_]+\/value/);
  });

  describe("its API calls", () => {
    let f: ApiFixture;
    beforeAll(async () => {
      f = await startApiFixture();
    });
    afterAll(async () => {
      await f?.close();
    });

    it("exist, and an agent token may make them", () => {
      const used = calls(text);
      expect(used.length).toBeGreaterThan(15);
      const toRegex = (p: string) => new RegExp(`^${p.replace(/:[a-z]+/gi, "[^/]+")}$`);
      for (const c of used) {
        const route = f.api.routes.find((r) => r.method.toUpperCase() === c.method && toRegex(r.path).test(c.path));
        expect(route, `${c.method} ${c.path}`).toBeDefined();
        expect(ROLE_RANK[route!.role ?? "viewer"], `${c.method} ${c.path} needs ${route!.role}`).toBeLessThanOrEqual(ROLE_RANK.agent);
      }
    });
  });
});
