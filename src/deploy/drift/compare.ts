// The pure half of drift: desired (from the store) against observed (from the edge) for one worker
// on one target, and whether a new verdict is a transition worth an event. No I/O here.
//
// Kinds of drift, all names and types, never a value:
//   code             the live split is not the desired one (versions or percentages)
//   unknown_version  a live version the orchestrator never uploaded to this target (a `wrangler
//                    deploy`, a dashboard edit, `wrangler secret put` all make one)
//   bindings         a live version's bindings (name, type) differ from the desired version's
//   secrets          a live version of ours ships other secret versions than the desired one (its
//                    catalog pins: e.g. a dashboard rollback to an older release)
//   settings         compatibility date or flags differ from the desired version's (read back
//                    from the edge; from the spec when the desired version cannot be read)
//   config           the agent applied an older config version than published, for longer than
//                    the grace (one interval)
// Versions are immutable, so when the split matches, bindings and settings match too.
import { byCodeUnits } from "../../kit/order.ts";
import { DRIFT_KINDS, type DriftKind } from "../../contract/index.ts";
import { sameSplit } from "../../targets/live-read.ts";
import type { Split } from "../../targets/types.ts";

export { DRIFT_KINDS, type DriftKind };

export type BindingFact = { name: string; type: string };
/** What a version is, read back from the edge (getVersion): binding names and types, settings. */
export type VersionFacts = { bindings: BindingFact[]; compatibilityDate: string | null; compatibilityFlags: string[] | null };
/** What our catalog says a version shipped; `known: false` for one we never uploaded here. */
export type CatalogFacts = { known: boolean; secrets: Record<string, number> | null };

export type Difference =
  | { kind: "code"; desired: Split; observed: Split }
  | { kind: "unknown_version"; versionId: string }
  | {
      kind: "bindings";
      versionId: string;
      added: BindingFact[];
      removed: BindingFact[];
      changed: Array<{ name: string; desired: string; observed: string }>;
    }
  | { kind: "secrets"; versionId: string; secrets: Array<{ name: string; desired: number | null; observed: number | null }> }
  | {
      kind: "settings";
      versionId: string;
      setting: "compatibility_date" | "compatibility_flags";
      desired: string;
      observed: string;
      against: "desired version" | "spec";
    }
  | { kind: "config"; desired: number; applied: number | null; written?: number | null };

export type CompareInput = {
  desired: Split;
  observed: Split;
  /** Facts of a version read from the edge, when read ("missing": the edge no longer has it). */
  facts: (versionId: string) => VersionFacts | "missing" | undefined;
  /** Our catalog on this target. */
  catalog: (versionId: string) => CatalogFacts;
  spec: { compatibilityDate: string; compatibilityFlags: string[] };
  /** Set by the checker once applied < desired has lasted longer than the grace. */
  configLag?: { desired: number; applied: number | null; written?: number | null };
};

export type Verdict = { drifted: boolean; kinds: DriftKind[]; differences: Difference[]; detail: string; signature: string | null };

const short = (id: string) => id.slice(0, 8);
const pct = (n: number) => `${Number.isInteger(n) ? n : n.toFixed(1)}%`;
export const splitText = (s: Split) =>
  s.length === 0 ? "nothing" : s.map((v) => `${short(v.versionId)} ${pct(v.percentage)}`).join(" + ");

export { sameSplit };

/** The version carrying most of a split's traffic (what the others are compared with). */
export function mainVersion(s: Split): string | undefined {
  return [...s].sort((a, b) => b.percentage - a.percentage)[0]?.versionId;
}

export function diffBindings(
  desired: BindingFact[],
  observed: BindingFact[],
): Omit<Extract<Difference, { kind: "bindings" }>, "kind" | "versionId"> {
  const want = new Map(desired.map((b) => [b.name, b.type]));
  const have = new Map(observed.map((b) => [b.name, b.type]));
  const byName = (a: { name: string }, b: { name: string }) => byCodeUnits(a.name, b.name);
  return {
    added: observed
      .filter((b) => !want.has(b.name))
      .map(({ name, type }) => ({ name, type }))
      .sort(byName),
    removed: desired
      .filter((b) => !have.has(b.name))
      .map(({ name, type }) => ({ name, type }))
      .sort(byName),
    changed: observed
      .filter((b) => want.has(b.name) && want.get(b.name) !== b.type)
      .map((b) => ({ name: b.name, desired: want.get(b.name)!, observed: b.type }))
      .sort(byName),
  };
}

function diffSecrets(desired: Record<string, number>, observed: Record<string, number>) {
  const names = [...new Set([...Object.keys(desired), ...Object.keys(observed)])].sort();
  return names
    .filter((n) => desired[n] !== observed[n])
    .map((name) => ({ name, desired: desired[name] ?? null, observed: observed[name] ?? null }));
}

export function compareTarget(input: CompareInput): Verdict {
  const differences: Difference[] = [];
  if (!sameSplit(input.desired, input.observed)) {
    differences.push({ kind: "code", desired: input.desired, observed: input.observed });
    const wanted = new Set(input.desired.map((d) => d.versionId));
    const main = mainVersion(input.desired);
    const mainFacts = main === undefined ? undefined : input.facts(main);
    const mainCatalog = main === undefined ? undefined : input.catalog(main);
    for (const { versionId } of input.observed) {
      if (wanted.has(versionId)) continue;
      const catalog = input.catalog(versionId);
      if (!catalog.known) differences.push({ kind: "unknown_version", versionId });
      const facts = input.facts(versionId);
      if (facts && facts !== "missing") {
        if (mainFacts && mainFacts !== "missing") {
          const b = diffBindings(mainFacts.bindings, facts.bindings);
          if (b.added.length + b.removed.length + b.changed.length > 0) differences.push({ kind: "bindings", versionId, ...b });
        }
        differences.push(...settingsDiff(versionId, facts, mainFacts && mainFacts !== "missing" ? mainFacts : undefined, input.spec));
      }
      if (catalog.known && catalog.secrets && mainCatalog?.secrets) {
        const secrets = diffSecrets(mainCatalog.secrets, catalog.secrets);
        if (secrets.length > 0) differences.push({ kind: "secrets", versionId, secrets });
      }
    }
  }
  if (input.configLag) differences.push({ kind: "config", ...input.configLag });
  const kinds = DRIFT_KINDS.filter((k) => differences.some((d) => d.kind === k));
  const drifted = differences.length > 0;
  return {
    drifted,
    kinds,
    differences,
    detail: drifted ? describe(differences) : "serves the desired versions",
    signature: drifted ? signatureOf(input.observed, kinds) : null,
  };
}

function settingsDiff(versionId: string, live: VersionFacts, desired: VersionFacts | undefined, spec: CompareInput["spec"]): Difference[] {
  const against = desired ? "desired version" : "spec";
  const wantDate = desired ? desired.compatibilityDate : spec.compatibilityDate;
  const wantFlags = desired ? desired.compatibilityFlags : spec.compatibilityFlags;
  const out: Difference[] = [];
  // A field the API did not return on either side is not compared.
  if (wantDate !== null && live.compatibilityDate !== null && wantDate !== live.compatibilityDate) {
    out.push({ kind: "settings", versionId, setting: "compatibility_date", desired: wantDate, observed: live.compatibilityDate, against });
  }
  const flags = (f: string[]) => [...f].sort().join(",");
  if (wantFlags !== null && live.compatibilityFlags !== null && flags(wantFlags) !== flags(live.compatibilityFlags)) {
    out.push({
      kind: "settings",
      versionId,
      setting: "compatibility_flags",
      desired: flags(wantFlags) || "(none)",
      observed: flags(live.compatibilityFlags) || "(none)",
      against,
    });
  }
  return out;
}

/** One line for people: what serves instead of what, then what differs. */
export function describe(differences: Difference[]): string {
  const parts: string[] = [];
  for (const d of differences) {
    switch (d.kind) {
      case "code":
        parts.push(`serves ${splitText(d.observed)} instead of ${splitText(d.desired)}`);
        break;
      case "unknown_version":
        parts.push(`${short(d.versionId)} was not uploaded by the orchestrator (unknown version)`);
        break;
      case "bindings": {
        const b = [
          ...d.added.map((x) => `+${x.name} (${x.type})`),
          ...d.removed.map((x) => `-${x.name} (${x.type})`),
          ...d.changed.map((x) => `${x.name} ${x.desired} -> ${x.observed}`),
        ];
        parts.push(`bindings of ${short(d.versionId)}: ${b.join(", ")}`);
        break;
      }
      case "secrets":
        parts.push(
          `secrets of ${short(d.versionId)}: ${d.secrets.map((s) => `${s.name} v${s.observed ?? "-"} (desired v${s.desired ?? "-"})`).join(", ")}`,
        );
        break;
      case "settings":
        parts.push(`${d.setting} of ${short(d.versionId)}: ${d.observed} (${d.against}: ${d.desired})`);
        break;
      case "config":
        parts.push(
          `config v${d.applied ?? "none"} applied, v${d.desired} published` +
            // Not even in the target's KV: no agent can apply it; only a publish again writes it.
            (d.written !== undefined && (d.written ?? 0) < d.desired
              ? ` but v${d.written ?? "none"} written there (a publish cut off or failed on this target: publish again)`
              : ""),
        );
        break;
    }
  }
  return parts.join("; ");
}

/** What identifies one drift: a new live version or a new kind is a new drift (a new event). */
function signatureOf(observed: Split, kinds: DriftKind[]): string {
  const live = [...observed].sort((a, b) => byCodeUnits(a.versionId, b.versionId)).map((v) => `${v.versionId}@${v.percentage}`);
  return `${live.join("+")}|${kinds.join(",")}`;
}

/** The event a verdict calls for, given the last definite one: only transitions are events. */
export function transition(
  previous: { drifted: boolean; signature: string | null } | undefined,
  next: Pick<Verdict, "drifted" | "signature">,
): "detected" | "resolved" | undefined {
  if (next.drifted) return previous?.drifted && previous.signature === next.signature ? undefined : "detected";
  return previous?.drifted ? "resolved" : undefined;
}
