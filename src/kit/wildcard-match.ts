// Wildcard patterns matched with two pointers, in at most len(pattern) x len(text) steps: `any`
// stands for any run of characters (SQL LIKE's `%`, a glob's `*`), `one` (when given) for exactly
// one (LIKE's `_`), everything else for itself, case kept. Never a regular expression built from
// the pattern: `%%%%…x` as `.*.*.*.*…x` backtracks exponentially, and these patterns come from
// clients (GraphQL filters) and from deployed Worker settings (assets' run_worker_first) matched
// against public request paths, where one slow match holds a region's event loop.
export function wildcardMatch(pattern: string, text: string, o: { any: string; one?: string }): boolean {
  let p = 0;
  let t = 0;
  let star = -1; // the last `any` seen, and where in the text its run started
  let from = 0;
  while (t < text.length) {
    const c = pattern[p];
    if (p < pattern.length && c !== o.any && (c === o.one || c === text[t])) {
      p++;
      t++;
    } else if (p < pattern.length && c === o.any) {
      star = p++;
      from = t;
    } else if (star !== -1) {
      p = star + 1;
      t = ++from;
    } else return false;
  }
  while (p < pattern.length && pattern[p] === o.any) p++;
  return p === pattern.length;
}
