// A rollback preview in words, the same for the CLI, the MCP server and the dashboard: per target
// the code version, each secret's version change and the config version, then the warnings (the
// schema that stays), what refuses it, and the confirmations it needs. Pure, runtime-neutral.
import type { RollbackPreview } from "./releases.ts";

const short = (id: string | null) => id ?? "(unknown)";

/** `given`: the confirmations the caller already sent (the CLI's flags), said as given rather than needed. */
export function rollbackPreviewLines(p: RollbackPreview, given: { force?: boolean; confirmSecretDowngrade?: boolean } = {}): string[] {
  const lines = [`Roll ${p.worker} back on every target at once, without gates, to ${p.resolved}:`];
  for (const t of p.targets) {
    lines.push(`  ${t.name}: code ${short(t.from)} -> ${short(t.to)}`);
    for (const s of t.secrets) {
      const v = (n: number | null) => (n === null ? "none" : `v${n}`);
      const what =
        s.change === "downgrade"
          ? `DOWNGRADE (the vault's current is ${v(s.current)})`
          : s.change === "same"
            ? "unchanged"
            : s.change === "unknown"
              ? "versions unknown"
              : s.change;
      lines.push(`    secret ${s.name}: ${v(s.from)} -> ${v(s.to)}, ${what}`);
    }
    lines.push(`    config: ${t.config.note}`);
  }
  for (const s of p.skipped) lines.push(`  ${s.name}: unchanged (${s.why})`);
  for (const w of p.warnings) lines.push(`warning: ${w}`);
  if (p.refused) lines.push(`refused: ${p.refused}`);
  if (p.needs.force)
    lines.push(
      given.force
        ? "forced (--force): a newer migration is marked -- cbo:breaks-rollback"
        : "needs --force (API: force: true): a newer migration is marked -- cbo:breaks-rollback",
    );
  if (p.needs.confirmSecretDowngrade)
    lines.push(
      given.confirmSecretDowngrade
        ? "confirmed (--confirm-secret-downgrade): a secret goes back to an older version"
        : "needs --confirm-secret-downgrade (API: confirm_secret_downgrade: true): a secret goes back to an older version",
    );
  return lines;
}
