// The environment children get: an allowlist; the daemon's secrets moved out of process.env.
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { blankForChildren, childEnv, takeSecretEnv, withChildEnv } from "./child-env.ts";

describe("child environments", () => {
  const env = {
    PATH: "/bin",
    HOME: "/h",
    LC_ALL: "C",
    GOMAXPROCS: "2",
    CBO_MASTER_KEY: "k",
    CLOUDFLARE_API_TOKEN: "t",
    AWS_SECRET_ACCESS_KEY: "a",
    NODE_OPTIONS: "--x",
  };

  it("passes locale, paths and runtime knobs, nothing else", () => {
    expect(childEnv(env)).toEqual({ PATH: "/bin", HOME: "/h", LC_ALL: "C", GOMAXPROCS: "2" });
    expect(blankForChildren(env)).toEqual({ CBO_MASTER_KEY: "", CLOUDFLARE_API_TOKEN: "", AWS_SECRET_ACCESS_KEY: "", NODE_OPTIONS: "" });
  });

  it("withChildEnv: a child spawned inside sees the allowlist; the process keeps its environment", () => {
    process.env.CBO_TEST_SECRET = "pl4nted";
    try {
      const out = withChildEnv(() => spawnSync("sh", ["-c", 'echo "[$CBO_TEST_SECRET]"'], { encoding: "utf8" }).stdout);
      expect(out.trim()).toBe("[]");
      expect(process.env.CBO_TEST_SECRET).toBe("pl4nted");
    } finally {
      delete process.env.CBO_TEST_SECRET;
    }
  });

  it("takeSecretEnv moves the secrets out and returns them", () => {
    const e: Record<string, string | undefined> = { ...env };
    expect(takeSecretEnv(e)).toEqual({ CBO_MASTER_KEY: "k", CLOUDFLARE_API_TOKEN: "t" });
    expect(e).not.toHaveProperty("CBO_MASTER_KEY");
    expect(e).not.toHaveProperty("CLOUDFLARE_API_TOKEN");
    expect(e.PATH).toBe("/bin");
  });
});
