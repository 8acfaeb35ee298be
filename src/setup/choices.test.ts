import { describe, expect, it } from "vitest";
import { decide, parseAccounts, type InitFlags } from "./choices.ts";

const base: InitFlags = {
  data: "/tmp/cbo-choices/data",
  config: "/tmp/cbo-choices/orchestrator.yaml",
  local: false,
  accountIds: [],
  release: true,
  serve: false,
  yes: false,
};
const ID = "0123456789abcdef0123456789abcdef";

describe("decide", () => {
  it("without a terminal and without --yes it asks for --local or an account", async () => {
    await expect(decide(base, {})).rejects.toMatchObject({ code: "ERR_USAGE" });
  });

  it("--yes means the local edge and a key file in the data directory", async () => {
    const c = await decide({ ...base, yes: true }, {});
    expect(c.targets).toEqual({ kind: "local", regions: ["eu", "us", "ap"] });
    expect(c.masterKey).toEqual({ kind: "file", file: "/tmp/cbo-choices/data/master.key" });
    expect(c.release).toBe(true);
  });

  it("takes the key from CBO_MASTER_KEY or a passphrase, and refuses two sources", async () => {
    expect((await decide({ ...base, local: true }, { CBO_MASTER_KEY: "x" })).masterKey).toEqual({ kind: "env" });
    expect((await decide({ ...base, local: true }, { CBO_MASTER_PASSPHRASE: "long enough phrase" })).masterKey.kind).toBe("passphrase");
    await expect(decide({ ...base, local: true, masterKeyFile: "/k" }, { CBO_MASTER_KEY: "x" })).rejects.toMatchObject({
      code: "ERR_USAGE",
    });
  });

  it("Cloudflare needs a token file; --local and an account together are refused", async () => {
    await expect(decide({ ...base, accountIds: [ID] }, {})).rejects.toThrow(/--api-token-file/);
    await expect(decide({ ...base, local: true, accountIds: [ID] }, {})).rejects.toMatchObject({ code: "ERR_USAGE" });
    const c = await decide({ ...base, accountIds: [ID], apiTokenFile: "/run/cf-token" }, {});
    expect(c.targets).toEqual({
      kind: "cloudflare",
      apiUrl: "https://api.cloudflare.com/client/v4",
      accounts: [{ name: "cf", accountId: ID }],
    });
  });

  it("on a terminal, the answers decide", async () => {
    const answers = ["2", `${ID}, ${"f".repeat(32)}`, "/run/cf-token", "/keys/master.key", "y", "n"];
    const asked: string[] = [];
    const c = await decide(base, {}, async (q) => (asked.push(q), answers.shift()!));
    expect(asked).toHaveLength(6);
    expect(c.targets).toMatchObject({
      kind: "cloudflare",
      accounts: [
        { name: "cf1", accountId: ID },
        { name: "cf2", accountId: "f".repeat(32) },
      ],
    });
    expect(c.masterKey).toEqual({ kind: "file", file: "/keys/master.key" });
    expect([c.release, c.serve]).toEqual([true, false]);
  });
});

describe("parseAccounts", () => {
  it("names targets and checks the ids", () => {
    expect(parseAccounts([`eu=${ID}`])).toEqual([{ name: "eu", accountId: ID }]);
    expect(() => parseAccounts(["nothex"])).toThrow(/32 lowercase hex/);
  });
});
