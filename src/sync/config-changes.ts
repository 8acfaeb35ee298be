// What changed between two configs of a target, key path by key path, with the old and the new
// value: what `cbo config diff` shows and what the audit entry of a publish records. Objects are
// walked key by key; arrays and scalars are compared whole (a config's arrays are values, as
// deepMerge in merge.ts treats them).
//
// Config is not secret: it is signed into each target's KV in clear, and orchestrator.yaml has no
// way to reference a vault secret. Still, a value under a key that names a secret (`api_key`,
// `password`…, kit/secret-words.ts) is masked wherever it is shown or recorded: someone may have
// put one there, and the audit log, its exports and backups must not spread it.
import { createHash } from "node:crypto";
import type { AuditedConfigChange, ConfigChange } from "../contract/index.ts";
import { canonicalJson } from "../kit/protocol/canonical-json.ts";
import { isSecretKey } from "../kit/secret-words.ts";

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const same = (a: unknown, b: unknown) => canonicalJson(a) === canonicalJson(b);
export const MASKED = "***";

/** `v` with every value under a secret-named key (at any depth) replaced by MASKED: how a config is shown. */
export function maskSecretValues<T>(v: T): T {
  const walk = (x: unknown, masked: boolean): unknown => {
    if (masked) return MASKED;
    if (Array.isArray(x)) return x.map((y) => walk(y, false));
    if (!isObj(x)) return x;
    return Object.fromEntries(Object.entries(x).map(([k, y]) => [k, walk(y, isSecretKey(k))]));
  };
  return walk(v, false) as T;
}

/** Every key path whose value differs, in key order; `before`/`after` absent for an added/removed key. */
export function configChanges(before: Obj | undefined, after: Obj | undefined, prefix = "", masked = false): ConfigChange[] {
  const keys = [...new Set([...Object.keys(before ?? {}), ...Object.keys(after ?? {})])].sort();
  const out: ConfigChange[] = [];
  for (const k of keys) {
    const path = prefix ? `${prefix}.${k}` : k;
    const mask = masked || isSecretKey(k);
    const had = before !== undefined && Object.hasOwn(before, k);
    const has = after !== undefined && Object.hasOwn(after, k);
    const a = had ? before![k] : undefined;
    const b = has ? after![k] : undefined;
    if (had && has && isObj(a) && isObj(b)) out.push(...configChanges(a, b, path, mask));
    else if (had !== has || !same(a, b)) {
      out.push({
        path,
        ...(had ? { before: mask ? MASKED : a } : {}),
        ...(has ? { after: mask ? MASKED : b } : {}),
        ...(mask ? { masked: true } : {}),
      });
    }
  }
  return out;
}

/** An audit entry's details stay under 16 KiB (audit/details-guard.ts): the changes get this much. */
export const AUDIT_BUDGET = { chars: 12_000, valueChars: 512 };

/**
 * The changes of every target as an audit entry keeps them: each value as its JSON text (values
 * are user data: as text, no key inside one is taken for a field of the entry), a long one named by
 * its size and hash, and as many changes as fit the budget; `more` counts the ones left out.
 */
export function auditedChanges(byTarget: Array<{ target: string; changes: ConfigChange[] }>): {
  changes: AuditedConfigChange[];
  more: number;
} {
  const text = (v: unknown) => {
    const json = canonicalJson(v);
    return json.length <= AUDIT_BUDGET.valueChars
      ? json
      : `<${json.length} characters of JSON, sha256 ${createHash("sha256").update(json).digest("hex").slice(0, 16)}>`;
  };
  const changes: AuditedConfigChange[] = [];
  let used = 0;
  let more = 0;
  for (const { target, changes: list } of byTarget) {
    for (const c of list) {
      const entry: AuditedConfigChange = {
        target,
        path: c.path,
        ...("before" in c ? { before: text(c.before) } : {}),
        ...("after" in c ? { after: text(c.after) } : {}),
        ...(c.masked ? { masked: true } : {}),
      };
      const size = canonicalJson(entry).length + 1;
      if (used + size > AUDIT_BUDGET.chars) {
        more++;
        continue;
      }
      used += size;
      changes.push(entry);
    }
  }
  return { changes, more };
}
