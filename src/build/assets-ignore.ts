// `.assetsignore` as wrangler reads it: gitignore patterns through node-ignore 5.3.1 (MIT, Kael
// Zhang), the package wrangler bundles, ported as is so the same patterns leave out the same
// files. Case-insensitive (node-ignore's default). A path is tested with its parent directories
// first ("a/b/c" tests "a/", then "a/b/", then "a/b/c"): once a parent is ignored, nothing below it
// can be re-included, as in git. wrangler always adds `/.assetsignore`, `/_redirects` and
// `/_headers` before the file's own lines (workers-shared/utils/helpers.ts).

// A replacer gets String.prototype.replace's arguments (match, groups…, offset, whole string).
type Replacer = (this: string, ...args: never[]) => string;

const REPLACERS: Array<[RegExp, Replacer]> = [
  // BOM
  [/^\uFEFF/, () => ""],
  // Trailing spaces are ignored unless escaped with a backslash.
  [/\\?\s+$/, (m: string) => (m.indexOf("\\") === 0 ? " " : "")],
  [/\\\s/g, () => " "],
  // Escape what is special to RegExp but literal to gitignore.
  [/[\\$.|*+(){^]/g, (m: string) => `\\${m}`],
  // `?` is one character other than "/".
  [/(?!\\)\?/g, () => "[^/]"],
  // A leading slash anchors at the root.
  [/^\//, () => "^"],
  [/\//g, () => "\\/"],
  // A leading `**/` matches in all directories.
  [/^\^*\\\*\\\*\\\//, () => "^(?:.*\\/)?"],
  // No slash but a trailing one: matches at any level; otherwise anchored.
  [
    /^(?=[^^])/,
    function startingReplacer(this: string) {
      return !/\/(?!$)/.test(this) ? "(?:^|\\/)" : "^";
    },
  ],
  // `/**/` and a trailing `/**`.
  [/\\\/\\\*\\\*(?=\\\/|$)/g, (_m, index: number, str: string) => (index + 6 < str.length ? "(?:\\/[^\\/]+)*" : "\\/.+")],
  // Intermediate `*` (an escaped `\*` stays literal).
  [/(^|[^\\]+)(\\\*)+(?=.+)/g, (_m, p1: string, p2: string) => p1 + p2.replace(/\\\*/g, "[^\\/]*")],
  // Undo step 4 for escaped metacharacters, then for backslashes.
  [/\\\\\\(?=[$.|*+(){^])/g, () => "\\"],
  [/\\\\/g, () => "\\"],
  // Ranges `[a-z]`.
  [
    /(\\)?\[([^\]/]*?)(\\*)($|\])/g,
    (_m, leadEscape: string | undefined, range: string, endEscape: string, close: string) =>
      leadEscape === "\\"
        ? `\\[${range}${cleanRangeBackSlash(endEscape)}${close}`
        : close === "]"
          ? endEscape.length % 2 === 0
            ? `[${sanitizeRange(range)}${endEscape}]`
            : "[]"
          : "[]",
  ],
  // The end: `js` does not match `js.` nor `jsx`; a trailing slash matches directories only.
  [/(?:[^*])$/, (m: string) => (/\/$/.test(m) ? `${m}$` : `${m}(?=$|\\/$)`)],
  // A trailing `*`.
  [/(\^|\\\/)?\\\*$/, (_m, p1: string | undefined) => `${p1 ? `${p1}[^/]+` : "[^/]*"}(?=$|\\/$)`],
];

function sanitizeRange(range: string): string {
  return range.replace(/([0-z])-([0-z])/g, (m, from: string, to: string) => (from.charCodeAt(0) <= to.charCodeAt(0) ? m : ""));
}

function cleanRangeBackSlash(slashes: string): string {
  return slashes.slice(0, slashes.length - (slashes.length % 2));
}

function makeRegex(pattern: string): RegExp {
  const source = REPLACERS.reduce(
    (prev, [re, fn]) => prev.replace(re, fn.bind(pattern) as (match: string, ...rest: unknown[]) => string),
    pattern,
  );
  return new RegExp(source, "i");
}

type Rule = { negative: boolean; regex: RegExp };

/** node-ignore's checkPattern: blank lines, comments and a dangling backslash add nothing. */
function isPattern(p: string): boolean {
  return p !== "" && !/^\s+$/.test(p) && !/(?:[^\\]|^)\\$/.test(p) && p.indexOf("#") !== 0;
}

function createRule(pattern: string): Rule {
  let negative = false;
  let p = pattern;
  if (p.indexOf("!") === 0) {
    negative = true;
    p = p.slice(1);
  }
  p = p.replace(/^\\!/, "!").replace(/^\\#/, "#");
  return { negative, regex: makeRegex(p) };
}

export type Ignorer = {
  /** Is this relative path (forward slashes) ignored? */
  ignores(relativePath: string): boolean;
};

/** Rules from patterns (each may hold several lines, split on LF or CRLF as node-ignore splits). */
export function createIgnorer(patterns: string[]): Ignorer {
  const rules = patterns
    .flatMap((p) => p.split(/\r?\n/g))
    .filter(isPattern)
    .map(createRule);
  const cache = new Map<string, boolean>();

  const testOne = (path: string): boolean => {
    let ignored = false;
    let unignored = false;
    for (const rule of rules) {
      // node-ignore's skip table, as test() (checkUnignored) uses it: a rule that cannot change
      // the outcome is not tried.
      if (unignored === rule.negative && ignored !== unignored) continue;
      if (rule.regex.test(path)) {
        ignored = !rule.negative;
        unignored = rule.negative;
      }
    }
    return ignored;
  };

  const test = (path: string, slices: string[]): boolean => {
    const hit = cache.get(path);
    if (hit !== undefined) return hit;
    slices.pop();
    const result = slices.length === 0 ? testOne(path) : test(`${slices.join("/")}/`, slices) || testOne(path);
    cache.set(path, result);
    return result;
  };

  return { ignores: (relativePath) => (rules.length === 0 ? false : test(relativePath, relativePath.split("/"))) };
}

/** The patterns wrangler always adds before `.assetsignore`'s own. */
export const DEFAULT_ASSETS_IGNORE = ["/.assetsignore", "/_redirects", "/_headers"];
