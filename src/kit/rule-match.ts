// Matching a `_redirects`/`_headers` rule's compiled pattern without the regex engine's backtracking.
// The asset-worker's pattern turns each `:name` into `([^/]+)`, so a rule with several placeholders
// in one segment (`/:a:b:c…`, `/:a-:b-:c…`) makes RegExp.exec take time exponential in the path's
// length: one request would hold the region's router (every Worker it serves) for minutes, where
// Cloudflare's CPU limit ends only that request. Here the same pattern source is read as tokens and
// matched by a search that tries the same choices in the same order (greedy, left to right) but
// remembers where it failed, so the answer and its groups are the regex's, in polynomial time.

type Token = { literal: string } | { group: string; stop: string };

/** The tokens of a source built by ruleSource (assets-rules.ts): escaped literals and `(?<name>.*|[^/]+|[^/.]+)` groups. */
export function patternTokens(source: string): Token[] {
  const out: Token[] = [];
  let literal = "";
  const body = source;
  for (let i = 0; i < body.length; ) {
    if (body[i] === "\\") {
      literal += body[i + 1] ?? "";
      i += 2;
      continue;
    }
    const group = /^\(\?<([^>]+)>(\.\*|\[\^\/\]\+|\[\^\/\.\]\+)\)/.exec(body.slice(i, i + 200));
    if (group) {
      if (literal) out.push({ literal });
      literal = "";
      out.push({ group: group[1]!, stop: group[2] === ".*" ? "" : group[2] === "[^/]+" ? "/" : "/." });
      i += group[0].length;
      continue;
    }
    literal += body[i];
    i++;
  }
  if (literal) out.push({ literal });
  return out;
}

/** The named groups of a whole-string match of `tokens` against `input`, or undefined. */
export function matchTokens(tokens: Token[], input: string): Record<string, string> | undefined {
  const failed = new Set<number>();
  const groups: Record<string, string> = {};
  const width = input.length + 1;
  const at = (t: number, pos: number): boolean => {
    if (t === tokens.length) return pos === input.length;
    const key = t * width + pos;
    if (failed.has(key)) return false;
    const token = tokens[t]!;
    if ("literal" in token) {
      if (input.startsWith(token.literal, pos) && at(t + 1, pos + token.literal.length)) return true;
    } else {
      // Greedy, as the regex: the longest run first, then shorter ones (a placeholder takes at least one character).
      let end = pos;
      if (token.stop === "") end = input.length;
      else while (end < input.length && !token.stop.includes(input[end]!)) end++;
      const least = token.stop === "" ? pos : pos + 1;
      for (let e = end; e >= least; e--) {
        if (at(t + 1, e)) {
          groups[token.group] = input.slice(pos, e);
          return true;
        }
      }
    }
    failed.add(key);
    return false;
  };
  return at(0, 0) ? groups : undefined;
}
