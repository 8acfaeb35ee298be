// The tunnel's status before a tunnel exists, with no cloudflared installed (an empty PATH): the
// install steps only when some target is on Cloudflare; the local edge routes tunnel hostnames
// itself. No tunnel exists, so no client is called: the accounts' clients are never used.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { CloudflareClient } from "../cloudflare/index.ts";
import { silentLogger } from "../telemetry/index.ts";
import { createTunnelManager } from "./manager.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function statusWith(locals: boolean[]) {
  const dataDir = mkdtempSync(join(tmpdir(), "cbo-tunnel-status-"));
  dirs.push(dataDir);
  const accounts = locals.map((local, i) => ({ target: `t${i}`, accountId: `a${i}`, client: {} as CloudflareClient, local }));
  const m = createTunnelManager({ dataDir, accounts: () => accounts, log: silentLogger, env: { PATH: "" } });
  await m.start("http://127.0.0.1:1");
  return m.status();
}

describe("tunnel status with no tunnel and no cloudflared", () => {
  it("every target on the local edge: no install steps, and a note that cloudflared is not needed", async () => {
    const s = await statusWith([true, true]);
    expect(s.process.state).toBe("not-installed");
    expect(s.process.install).toBeNull();
    expect(s.note).toContain("cloudflared is not needed");
  });

  it("a target on Cloudflare: the install steps", async () => {
    const s = await statusWith([true, false]);
    expect(s.process.install).toContain("apt-get install cloudflared");
    expect(s.note).not.toContain("not needed");
  });
});
