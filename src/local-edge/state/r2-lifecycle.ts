// R2's lifecycle rules where the edge applies them: the one action it carries out is aborting
// incomplete multipart uploads (at its start, state/r2.ts sweep); object expiry and storage-class
// transitions are stored and served only.

/** R2 aborts an incomplete multipart upload 7 days after it was created (its default lifecycle rule). */
export const UPLOAD_LIFETIME_MS = 7 * 24 * 3600 * 1000;

/**
 * R2's default lifecycle rule, what a bucket answers until its lifecycle is set. The R2 docs say
 * "Buckets have a default lifecycle rule to expire multipart uploads seven days after initiation";
 * this exact JSON (id, prefix "", maxAge in seconds) is unconfirmed against the real API.
 */
export const DEFAULT_LIFECYCLE_RULES = [
  {
    id: "Default Multipart Abort Rule",
    enabled: true,
    conditions: { prefix: "" },
    abortMultipartUploadsTransition: { condition: { maxAge: UPLOAD_LIFETIME_MS / 1000, type: "Age" } },
  },
];

type StoredRule = {
  enabled?: boolean;
  conditions?: { prefix?: string };
  abortMultipartUploadsTransition?: { condition?: { type?: string; maxAge?: number } };
};

/**
 * How long an incomplete upload of `key` may stay open under `rules` (already validated): the
 * shortest age of the enabled abort rules whose prefix the key has, or undefined when none applies
 * (a bucket whose rules were set without one keeps its uploads until they complete or abort).
 */
export function uploadLifetimeMs(rules: unknown[], key: string): number | undefined {
  let lifetime: number | undefined;
  for (const r of rules as StoredRule[]) {
    const c = r.abortMultipartUploadsTransition?.condition;
    if (!r.enabled || c?.type !== "Age" || typeof c.maxAge !== "number" || !key.startsWith(r.conditions?.prefix ?? "")) continue;
    lifetime = Math.min(lifetime ?? Number.POSITIVE_INFINITY, c.maxAge * 1000);
  }
  return lifetime;
}
