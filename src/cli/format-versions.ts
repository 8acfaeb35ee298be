// `cbo versions` for people: the newest versions per target, the live one marked, so that
// `cbo rollback <worker> --to <version>` has something to copy from.
import type { VersionEntry } from "../contract/index.ts";
import { table, type Paint } from "./table.ts";

/** Keeps the newest `limit` versions of each target, in the API's order (newest first). */
export function lastPerTarget(versions: VersionEntry[], limit: number): VersionEntry[] {
  const seen = new Map<string, number>();
  return versions.filter((v) => {
    const n = seen.get(v.target) ?? 0;
    seen.set(v.target, n + 1);
    return n < limit;
  });
}

export function formatVersions(worker: string, versions: VersionEntry[], paint: Paint): string {
  if (versions.length === 0) return `${worker}: no versions recorded yet (release it with \`cbo release ${worker}\`)\n`;
  // One block per target (the API lists newest first across targets).
  const order = [...new Set(versions.map((v) => v.target))];
  const grouped = order.flatMap((t) => versions.filter((v) => v.target === t));
  const rows = grouped.map((v) => [v.target, v.versionId, v.live ? paint.ok("live") : "", v.releaseId ?? "-", v.createdAt ?? "-"]);
  return `${table(rows, ["TARGET", "VERSION", "LIVE", "RELEASE", "CREATED"])}\n`;
}
