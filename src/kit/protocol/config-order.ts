// May a verified bundle replace the applied one? Signatures prove who wrote a bundle, not that it
// is current: anyone able to write KV can put back an older bundle the orchestrator once signed.
// So versions only move forward, and a rollback bundle (the orchestrator's signed decision to go
// back) may move them back. No bundle issued before the applied one is taken: that is what stops
// the version that was rolled away from (v2 after "roll back to v1") and an old rollback bundle
// from being replayed later, since both were issued before the bundle now applied.
//
//   no applied bundle                               -> apply
//   issued before the applied one                   -> older_version
//   rollback issued after the applied one           -> apply (any version)
//   higher version                                  -> apply
//   same version and config, issued later           -> apply (re-signed: only its issue time moves on)
//   same version and config, issued at the same ms  -> unchanged
//   otherwise                                       -> older_version
//
// Pure: the agent passes what it holds; the orchestrator can ask the same question for drift.
import { canonicalJson } from "./canonical-json.ts";
import type { ConfigPayload } from "./config-bundle.ts";

export type ConfigOrder = "apply" | "unchanged" | "older_version";

type Ordered = Pick<ConfigPayload, "version" | "issuedAt" | "rollback" | "config">;

export function orderConfig(applied: Ordered | undefined, incoming: Ordered): ConfigOrder {
  if (applied === undefined) return "apply";
  const issued = Date.parse(incoming.issuedAt);
  const appliedIssued = Date.parse(applied.issuedAt);
  if (issued < appliedIssued) return "older_version";
  if (incoming.rollback && issued > appliedIssued) return "apply";
  if (incoming.version > applied.version) return "apply";
  if (incoming.version === applied.version && canonicalJson(incoming.config) === canonicalJson(applied.config)) {
    return issued > appliedIssued ? "apply" : "unchanged";
  }
  return "older_version";
}
