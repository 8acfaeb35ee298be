// The request budget as a person sets it: CBO_CF_BUDGET=LIMIT or LIMIT/SECONDS (e.g. `960/300`,
// the default: 80% of Cloudflare's 1,200 requests per 5 minutes). Lower it when something else
// (wrangler in CI, another tool) spends from the same token; a small one makes the budget's
// behaviour easy to watch on the local edge.
import { CboError } from "../kit/errors.ts";
import type { RequestBudgetOptions } from "./budget.ts";

export function parseBudgetSetting(text: string, where = "CBO_CF_BUDGET"): Pick<RequestBudgetOptions, "limit" | "windowMs"> {
  const m = /^\s*(\d+)\s*(?:\/\s*(\d+)\s*s?)?\s*$/.exec(text);
  const limit = m ? Number(m[1]) : Number.NaN;
  const seconds = m?.[2] === undefined ? 300 : Number(m[2]);
  if (!m || !(limit >= 1) || !(seconds >= 1)) {
    throw new CboError("ERR_VALIDATION", `${where} is "${text}", which is not a request budget.`, {
      hint: `Give requests per window as LIMIT or LIMIT/SECONDS, e.g. 960/300 (the default: 960 per 5 minutes); Cloudflare allows 1,200 per 5 minutes per token.`,
    });
  }
  return { limit, windowMs: seconds * 1000 };
}
