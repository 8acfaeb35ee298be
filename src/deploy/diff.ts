// The pure half of `cbo diff`: for one target, what a release of the spec would change against
// what the target runs now. The live side comes from the edge (the live split, the main live
// version's bindings, vars and compatibility, the script settings) and, for what the edge does not
// say of a version (its modules' hashes, its assets manifest, the secret versions it shipped), from
// what the orchestrator recorded when it uploaded that very version id; a version it never
// uploaded is drift, and what only the record could say is `unknown` there. No I/O here.
//
// Secrets are names and versions only: a secret_text binding's value never reaches this file (the
// edge does not return it, and the desired side is built without reading the vault).
import type { UploadBinding } from "../cloudflare/index.ts";
import type { Version } from "../cloudflare/index.ts";
import { canonicalJson } from "../build/index.ts";
import { DIFF_AREAS, type DiffArea, type DiffChange, type TargetDiff, type WorkerDiff } from "../contract/index.ts";
import type { VersionFacts } from "../store/catalog.ts";
import { changedKeys, managedKeys, type ScriptState, type SettingKey } from "../targets/script-state.ts";
import type { Split } from "../targets/types.ts";
import { mainVersion } from "./drift/compare.ts";

/** What the spec wants in one target, built without the vault and without writing anything. */
export type DesiredTarget = {
  code: string;
  modules: Record<string, string>;
  /** Every binding of the version (vars, secrets as names, resources with the target's ids when they exist). */
  bindings: UploadBinding[];
  /** Binding names whose resource the release would create (no id yet). */
  creates: string[];
  /** Secret versions the version ships (binding and relay), by name. */
  secrets: Record<string, number>;
  compatibilityDate: string;
  compatibilityFlags: string[];
  /** Asset path -> content hash; undefined when the Worker has no assets. */
  assets?: Record<string, string>;
  keepVars: boolean;
};

export type LiveTarget = {
  live: Split;
  /** The main live version as the edge has it ("missing": gone), when one is deployed. */
  version?: Version | "missing";
  /** What the orchestrator recorded of each live version it uploaded here (absent: never uploaded). */
  recorded: (versionId: string) => { secrets: Record<string, number> | null; facts: VersionFacts | null } | undefined;
  /** The managed settings: what the target has (null: a new script) and what it should have. */
  settings?: { current: ScriptState | null; desired: ScriptState };
  /** Config versions published and applied by the agents there. */
  config?: { desired?: number; applied?: number };
};

const VAR_TYPES = new Set(["plain_text", "json"]);
const SETTING_AREA: Record<SettingKey, DiffArea> = {
  crons: "crons",
  routes: "routes",
  customDomains: "routes",
  consumers: "consumers",
  workersDev: "settings",
  previewUrls: "settings",
  logpush: "settings",
  observability: "settings",
  tailConsumers: "settings",
  serviceTags: "settings",
};

const text = (v: unknown) => (typeof v === "string" ? v : canonicalJson(v ?? null));
const varValue = (b: { type: string; [k: string]: unknown }) => (b.type === "json" ? canonicalJson(b.json ?? null) : String(b.text ?? ""));
/** A binding's identity beyond its name: every field but the name (and never a secret's text). */
function bindingText(b: { type: string; [k: string]: unknown }): string {
  const { name: _n, text: _t, ...rest } = b;
  return canonicalJson(rest);
}

export function diffTarget(target: string, desired: DesiredTarget, live: LiveTarget): TargetDiff {
  const changes: DiffChange[] = [];
  const add = (c: DiffChange) => changes.push(c);
  const versionId = mainVersion(live.live) ?? null;
  const unknownVersions = live.live.map((v) => v.versionId).filter((id) => live.recorded(id) === undefined);
  const rec = versionId ? live.recorded(versionId) : undefined;
  const facts = rec?.facts ?? null;
  const edge = live.version && live.version !== "missing" ? live.version : undefined;

  // Code: the modules' hashes, as recorded at upload (the edge does not return a version's modules).
  if (versionId === null) add({ area: "code", item: "script", change: "added", desired: desired.code.slice(0, 12) });
  else if (!facts)
    add({ area: "code", item: versionId, change: "unknown", live: rec ? "not recorded" : "not uploaded by the orchestrator" });
  else if (facts.code !== desired.code) {
    for (const c of mapDiff("code", facts.modules, desired.modules)) add(c);
    if (!changes.some((c) => c.area === "code"))
      add({ area: "code", item: "bundle", change: "changed", live: facts.code.slice(0, 12), desired: desired.code.slice(0, 12) });
  }

  // Bindings, vars, secrets, compatibility: from the version the edge serves.
  const liveBindings = versionId === null ? [] : (edge?.resources?.bindings ?? null);
  if (versionId !== null && liveBindings === null)
    add({ area: "bindings", item: versionId, change: "unknown", live: "the edge did not return the version" });
  if (liveBindings !== null) {
    const want = new Map(desired.bindings.map((b) => [b.name, b]));
    const have = new Map(liveBindings.map((b) => [b.name, b as UploadBinding]));
    for (const name of [...new Set([...want.keys(), ...have.keys()])].sort()) {
      const w = want.get(name);
      const h = have.get(name);
      const kind = (w ?? h)!.type;
      const area: DiffArea = kind === "secret_text" ? "secrets" : VAR_TYPES.has(kind) ? "vars" : "bindings";
      if (area === "secrets") continue; // below, with versions
      if (area === "vars") {
        if (!w && desired.keepVars) continue; // keep_vars: vars set outside the release stay
        const lv = h && VAR_TYPES.has(h.type) ? varValue(h) : undefined;
        const dv = w && VAR_TYPES.has(w.type) ? varValue(w) : undefined;
        if (lv === dv) continue;
        // Compared by value, shown by name only: a var's value never leaves the daemon (as drift keeps it).
        add({ area, item: name, change: !h ? "added" : !w ? "removed" : "changed" });
        continue;
      }
      if (w && h && w.type === h.type && !desired.creates.includes(name) && sameFields(w, h)) continue;
      add({
        area,
        item: name,
        change: !h ? "added" : !w ? "removed" : "changed",
        ...(h ? { live: `${h.type} ${bindingText(h)}` } : {}),
        ...(w
          ? { desired: desired.creates.includes(name) ? `${w.type} (resource created by the release)` : `${w.type} ${bindingText(w)}` }
          : {}),
      });
    }
    const liveSecrets = liveBindings.filter((b) => b.type === "secret_text").map((b) => b.name);
    const wantSecrets = desired.bindings.filter((b) => b.type === "secret_text").map((b) => b.name);
    const pins = rec?.secrets ?? null;
    const label = (name: string, v: number | undefined) => `${name}@${v ?? "?"}`;
    for (const name of [...new Set([...liveSecrets, ...wantSecrets, ...Object.keys(desired.secrets)])].sort()) {
      const isLive = liveSecrets.includes(name) || (pins !== null && name in pins);
      const isWanted = wantSecrets.includes(name) || name in desired.secrets;
      const lv = pins?.[name];
      const dv = desired.secrets[name];
      if (isLive && isWanted && (dv === undefined || lv === dv)) continue;
      add({
        area: "secrets",
        item: name,
        change: !isLive ? "added" : !isWanted ? "removed" : "changed",
        ...(isLive ? { live: label(name, lv) } : {}),
        ...(isWanted ? { desired: label(name, dv) } : {}),
      });
    }
    const runtime = edge?.resources?.script_runtime;
    const date = runtime?.compatibility_date ?? null;
    if (date !== null && date !== desired.compatibilityDate)
      add({ area: "compatibility", item: "compatibility_date", change: "changed", live: date, desired: desired.compatibilityDate });
    const flags = runtime?.compatibility_flags ?? null;
    const f = (x: string[]) => [...x].sort().join(",") || "(none)";
    if (flags !== null && f(flags) !== f(desired.compatibilityFlags))
      add({
        area: "compatibility",
        item: "compatibility_flags",
        change: "changed",
        live: f(flags),
        desired: f(desired.compatibilityFlags),
      });
  }

  // Config: published against applied there (`cbo config publish` ships it, not a release).
  const cfg = live.config;
  if (cfg?.desired !== undefined && cfg.applied !== cfg.desired)
    add({ area: "config", item: "config version", change: "changed", live: `v${cfg.applied ?? "none"}`, desired: `v${cfg.desired}` });

  // Assets: the recorded manifest of the live version against the spec's.
  if (versionId !== null && (desired.assets || facts?.assets)) {
    if (!facts)
      add({ area: "assets", item: versionId, change: "unknown", live: rec ? "not recorded" : "not uploaded by the orchestrator" });
    else for (const c of mapDiff("assets", facts.assets ?? {}, desired.assets ?? {})) add(c);
  } else if (versionId === null && desired.assets) for (const c of mapDiff("assets", {}, desired.assets)) add(c);

  // Script settings (crons, routes, consumers, the rest): read from the target.
  if (live.settings) {
    const { current, desired: want } = live.settings;
    const changed = current === null ? managedKeys(want) : changedKeys(current, want);
    for (const k of changed)
      add({
        area: SETTING_AREA[k],
        item: k,
        change: current === null ? "added" : "changed",
        ...(current ? { live: text(current[k]) } : {}),
        desired: text(want[k]),
      });
  }

  changes.sort((a, b) => DIFF_AREAS.indexOf(a.area) - DIFF_AREAS.indexOf(b.area));
  return {
    target,
    live: live.live,
    versionId,
    unknownVersions,
    drift: unknownVersions.length > 0,
    liveCode: facts?.code ?? null,
    desiredCode: desired.code,
    changes,
  };
}

/** The worker's diff: changed when a release would change something (config aside), drift when a target runs an unknown version. */
export function workerDiff(worker: string, targets: TargetDiff[]): WorkerDiff {
  return {
    worker,
    targets,
    changed: targets.some((t) => t.changes.some((c) => c.area !== "config")),
    drift: targets.some((t) => t.drift),
  };
}

function mapDiff(area: DiffArea, live: Record<string, string>, desired: Record<string, string>): DiffChange[] {
  const out: DiffChange[] = [];
  for (const k of [...new Set([...Object.keys(live), ...Object.keys(desired)])].sort()) {
    const l = live[k];
    const d = desired[k];
    if (l === d) continue;
    out.push({
      area,
      item: k,
      change: l === undefined ? "added" : d === undefined ? "removed" : "changed",
      ...opt("live", l?.slice(0, 12)),
      ...opt("desired", d?.slice(0, 12)),
    });
  }
  return out;
}

/** Fields both sides name must agree (Cloudflare adds fields of its own to what it returns). */
function sameFields(want: UploadBinding, have: UploadBinding): boolean {
  for (const [k, v] of Object.entries(want)) {
    if (k === "name" || k === "text" || !(k in have)) continue;
    if (canonicalJson(v ?? null) !== canonicalJson(have[k] ?? null)) return false;
  }
  return true;
}

const opt = (k: "live" | "desired", v: string | undefined) => (v === undefined ? {} : { [k]: v });
