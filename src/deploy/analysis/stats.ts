// The statistics the canary analysis uses, pure: is the canary's error proportion greater than the
// baseline's? One-sided tests of two binomial proportions:
//   - Fisher's exact test when an expected error count is small (under 5), where the normal
//     approximation is poor (a canary with 2 errors in 30 requests against a clean baseline);
//   - otherwise the two-proportion z-test with a pooled proportion.
// Both give a p-value: the chance of seeing a canary at least this much worse if both versions
// failed equally often.

/** Standard normal upper tail P(Z ≥ z), via erfc. */
export function normalUpperTail(z: number): number {
  return 0.5 * erfc(z / Math.SQRT2);
}

function erfc(x: number): number {
  // Numerical Recipes' erfc (Chebyshev fit, fractional error < 1.2e-7): ample for p-values.
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

export type Proportions = { canaryErrors: number; canaryRequests: number; baselineErrors: number; baselineRequests: number };
export type TestResult = { test: "z" | "fisher"; z: number; pValue: number };

/** One-sided two-proportion z statistic (pooled) and its p-value for "canary > baseline". */
export function twoProportionZ(p: Proportions): { z: number; pValue: number } {
  const { canaryErrors: x1, canaryRequests: n1, baselineErrors: x2, baselineRequests: n2 } = p;
  const pooled = (x1 + x2) / (n1 + n2);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  if (se === 0) return { z: 0, pValue: 1 }; // no errors at all (or nothing but): nothing to tell apart
  const z = (x1 / n1 - x2 / n2) / se;
  return { z, pValue: normalUpperTail(z) };
}

const logFactCache: number[] = [0];
function logFact(n: number): number {
  for (let i = logFactCache.length; i <= n; i++) logFactCache[i] = logFactCache[i - 1]! + Math.log(i);
  return logFactCache[n]!;
}
const logChoose = (n: number, k: number) => logFact(n) - logFact(k) - logFact(n - k);

/**
 * Fisher's exact test, one-sided: P(X ≥ canaryErrors) where X, the canary's share of all errors, is
 * hypergeometric given the margins (all errors, all requests, the canary's requests).
 */
export function fisherOneSided(p: Proportions): number {
  const n = p.canaryRequests + p.baselineRequests;
  const k = p.canaryErrors + p.baselineErrors;
  const m = p.canaryRequests;
  const hi = Math.min(k, m);
  let sum = 0;
  const denom = logChoose(n, m);
  for (let x = p.canaryErrors; x <= hi; x++) sum += Math.exp(logChoose(k, x) + logChoose(n - k, m - x) - denom);
  return Math.min(1, sum);
}

/** Fisher when an expected error count is under 5 (and the table is small enough to sum), else z. */
export function canaryWorse(p: Proportions): TestResult {
  const { z } = twoProportionZ(p);
  const pooled = (p.canaryErrors + p.baselineErrors) / (p.canaryRequests + p.baselineRequests);
  const small = Math.min(p.canaryRequests, p.baselineRequests) * pooled < 5;
  if (small && p.canaryRequests + p.baselineRequests <= 5_000_000) return { test: "fisher", z, pValue: fisherOneSided(p) };
  return { test: "z", ...twoProportionZ(p) };
}
