// `assets.run_worker_first` rules, checked as wrangler checks them before it deploys
// (workers-shared parseStaticRouting): wrangler refuses the deploy on any of these, and Cloudflare
// would route by rules that never match, so a release refuses them too, with wrangler's words.
import * as z from "zod";

const MAX_RULES = 100;
const MAX_RULE_LENGTH = 100;

export function runWorkerFirstProblems(rules: string[]): string[] {
  if (rules.length === 0) return ["no rules were provided; give at least 1 rule, or `true`/`false`"];
  if (rules.length > MAX_RULES) return [`${rules.length} rules provided exceeds the maximum of ${MAX_RULES}`];
  const problems: string[] = [];
  const positive = rules.filter((r) => r.startsWith("/"));
  const negative = rules.filter((r) => r.startsWith("!/"));
  for (const r of rules) {
    if (r.startsWith("/") || r.startsWith("!/")) continue;
    problems.push(r.startsWith("!") ? `'${r}': negative rules must start with '!/'` : `'${r}': rules must start with '/' or '!/'`);
  }
  if (negative.length > 0 && positive.length === 0) problems.push("only negative rules were provided; give at least 1 non-negative rule");
  for (const group of [positive, negative]) {
    const seen = new Set<string>();
    for (const r of group) {
      if (r.length > MAX_RULE_LENGTH) problems.push(`'${r}': all rules must be less than ${MAX_RULE_LENGTH} characters in length`);
      if (seen.has(r)) problems.push(`'${r}': rule is a duplicate; rules must be unique`);
      if (r.endsWith("*"))
        for (const other of group)
          if (other !== r && other.startsWith(r.slice(0, -1))) problems.push(`'${other}': rule '${r}' makes it redundant`);
      seen.add(r);
    }
  }
  return problems;
}

/** The zod shape of the key in a wrangler file and in orchestrator.yaml. */
export const RunWorkerFirstSchema = z.union([
  z.boolean(),
  z.array(z.string()).superRefine((rules, ctx) => {
    for (const message of runWorkerFirstProblems(rules)) ctx.addIssue({ code: "custom", message: `invalid rule: ${message}` });
  }),
]);
