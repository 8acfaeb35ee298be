// Creating the tunnel and (re-)applying its ingress through the Cloudflare API, then writing the
// token, cloudflared's config and the record. Every step is idempotent, so a create interrupted
// half-way is finished by running it again: a tunnel of the same name is adopted, the ingress is
// replaced as a whole (PUT), the files are rewritten whole. The record is written last: it is the
// commit point, after the caller's audit entry (fail closed: no entry, no record).
import { rmSync } from "node:fs";
import { CboError } from "../kit/errors.ts";
import { cloudflaredConfigYaml } from "./cloudflared-config.ts";
import { writePrivate, readToken, type TunnelFiles } from "./files.ts";
import { buildIngress } from "./ingress.ts";
import { HostnameSchema, type TunnelAccount, type TunnelRecord } from "./types.ts";

export const DEFAULT_TUNNEL_NAME = "clawdbot-orchestrator";

export type CreateInput = { target?: string; name?: string; hostname?: string; agentHostname?: string };

export function pickAccount(accounts: TunnelAccount[], target: string | undefined): TunnelAccount {
  const a = target === undefined ? accounts[0] : accounts.find((x) => x.target === target);
  if (!a) {
    throw new CboError(
      "ERR_NOT_FOUND",
      target === undefined ? "There is no target to create the tunnel in." : `No target named "${target}".`,
      {
        details: { targets: accounts.map((x) => x.target) },
        hint: accounts.length ? `Targets: ${accounts.map((x) => x.target).join(", ")}.` : "Declare a target in orchestrator.yaml.",
      },
    );
  }
  return a;
}

export function hostnameOf(value: string, field: string): string {
  const r = HostnameSchema.safeParse(value);
  if (!r.success)
    throw new CboError("ERR_VALIDATION", `${field} "${value}" is not a hostname: ${r.error.issues[0]?.message}.`, { details: { field } });
  return r.data;
}

/** The operator's hostname: given, or on the local edge a name under .test (reserved, never real DNS). */
export function defaultHostname(account: TunnelAccount, name: string, given: string | undefined): string {
  if (given !== undefined) return hostnameOf(given, "hostname");
  if (account.local) return hostnameOf(`${name}.tunnel.test`, "hostname");
  throw new CboError("ERR_VALIDATION", `A tunnel on Cloudflare (target ${account.target}) needs a public hostname.`, {
    hint: "Pass --hostname orchestrator.<a zone of this account>, then point its DNS at the tunnel (the create output says how).",
  });
}

/** The tunnel of this name, adopted when it exists (an interrupted create), else created. */
export async function ensureTunnel(account: TunnelAccount, name: string): Promise<{ id: string; adopted: boolean }> {
  const existing = (await account.client.listTunnels({ name })).find((t) => t.name === name && !t.deleted_at);
  if (existing) return { id: existing.id, adopted: true };
  return { id: (await account.client.createTunnel(name)).id, adopted: false };
}

/**
 * Applies the ingress of `next` (minus version and time, which this fills in) and writes every
 * file; `commit` runs before the record is written. Returns the record as written and whether
 * the token file changed (cloudflared must then be restarted).
 */
export async function applyTunnel(
  account: TunnelAccount,
  files: TunnelFiles,
  next: Omit<TunnelRecord, "ingress" | "configVersion" | "appliedAt">,
  commit: (r: TunnelRecord) => void,
): Promise<{ record: TunnelRecord; tokenChanged: boolean }> {
  const ingress = buildIngress(next);
  const applied = await account.client.putTunnelConfig(next.id, { ingress });
  const token = (await account.client.getTunnelToken(next.id)).trim();
  if (!token) throw new CboError("ERR_CF_RESPONSE", `Cloudflare answered an empty connector token for tunnel ${next.id}.`);
  const record: TunnelRecord = { ...next, ingress, configVersion: applied.version ?? null, appliedAt: new Date().toISOString() };
  const before = readToken(files);
  const hadConfig = before !== null;
  writePrivate(files.token, token + "\n", files.dir);
  writePrivate(files.config, cloudflaredConfigYaml({ tunnelId: next.id, ingress, tokenFile: files.token }), files.dir);
  try {
    commit(record);
  } catch (e) {
    // Not on the record, so not configured: a first create leaves no credentials behind.
    if (!hadConfig) for (const f of [files.token, files.config]) rmSync(f, { force: true });
    throw e;
  }
  writePrivate(files.record, JSON.stringify(record, null, 2) + "\n", files.dir);
  return { record, tokenChanged: before !== token };
}
