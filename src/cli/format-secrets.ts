// Human output for secrets and tokens: aligned tables of metadata. There is no value to print here.
import type { Secret, SecretVersion, Token } from "../contract/index.ts";
import { ago, table } from "./table.ts";

const dash = (s: string | null | undefined) => (s ? s : "-");

export function formatSecretList(secrets: Secret[], now: number = Date.now()): string {
  if (secrets.length === 0) return "no secrets\n";
  const rows = secrets.map((s) => [
    s.name,
    String(s.version),
    s.mode,
    s.jurisdictions.length ? s.jurisdictions.join(",") : "-",
    s.deleted ? "deleted" : "active",
    s.updatedAt ? ago(s.updatedAt, now) : "-",
  ]);
  return table(rows, ["NAME", "VERSION", "MODE", "JURISDICTIONS", "STATE", "UPDATED"]) + "\n";
}

export function formatSecretVersions(name: string, versions: SecretVersion[]): string {
  if (versions.length === 0) return `secret ${name} has no kept versions\n`;
  // Every write (set, rollback) makes a new version, so the current one is the newest.
  const newest = Math.max(...versions.map((v) => v.version));
  const isCurrent = (v: SecretVersion) => v.version === newest;
  const rows = versions.map((v) => [
    String(v.version),
    dash(v.createdAt),
    dash(v.createdBy),
    v.destroyed ? "destroyed" : isCurrent(v) ? "current" : "-",
  ]);
  return table(rows, ["VERSION", "CREATED", "BY", "STATE"]) + "\n";
}

export function tokenState(t: Token, now: number = Date.now()): string {
  if (t.revokedAt) return "revoked";
  if (t.expiresAt && Date.parse(t.expiresAt) <= now) return "expired";
  return "active";
}

export function formatTokenList(tokens: Token[], now: number = Date.now()): string {
  if (tokens.length === 0) return "no tokens\n";
  const rows = tokens.map((t) => [t.id, t.name, t.role, dash(t.tenant), dash(t.createdAt), dash(t.expiresAt), tokenState(t, now)]);
  return table(rows, ["ID", "NAME", "ROLE", "TENANT", "CREATED", "EXPIRES", "STATE"]) + "\n";
}
