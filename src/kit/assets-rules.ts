// The `_redirects` and `_headers` files of a Worker's static assets, as Cloudflare reads and applies
// them (workers-shared utils/configuration/parseRedirects.ts, parseHeaders.ts, and the asset-worker's
// rules engine): parsed once per version on the edge's side, matched per request in the router.
// Invalid lines are skipped, as Cloudflare skips them (wrangler prints the reasons at deploy time).
// Pure, so Node tests run it too.
import { matchTokens, patternTokens } from "./rule-match.ts";

export type RedirectRule = { status: number; to: string };
export type AssetRules = {
  redirects: { staticRules: Record<string, RedirectRule & { lineNumber: number }>; rules: Record<string, RedirectRule> };
  headers: Record<string, { set?: Record<string, string>; unset?: string[] }>;
};

const PERMITTED_STATUS = new Set([200, 301, 302, 303, 307, 308]);
const MAX_LINE_LENGTH = 2000;
const MAX_HEADER_RULES = 100;
const MAX_DYNAMIC_REDIRECTS = 100;
const MAX_STATIC_REDIRECTS = 2000;
const URL_RE = /^https:\/\/+(?<host>[^/]+)\/?(?<path>.*)/;
const HOST_WITH_PORT = /.*:\d+$/;
const SPLAT = /\*/g;
const PLACEHOLDER = /:[A-Za-z]\w*/g;

function pathOf(p: string, search: boolean, hash: boolean): string {
  const u = new URL(`//${p.startsWith("/") ? p : `/${p}`}`, "relative://");
  return `${u.pathname}${search ? u.search : ""}${hash ? u.hash : ""}`;
}

/** workers-shared's validateUrl: an https URL (host kept, scheme forced) or a path; undefined when invalid. */
function validUrl(token: string, onlyRelative: boolean, noPorts: boolean, search: boolean, hash: boolean): string | undefined {
  const host = URL_RE.exec(token)?.groups?.["host"];
  if (host) {
    if (onlyRelative || (noPorts && HOST_WITH_PORT.test(host))) return undefined;
    return `https://${host}${pathOf(URL_RE.exec(token)!.groups!["path"] ?? "", search, hash)}`;
  }
  const t = !token.startsWith("/") && onlyRelative ? `/${token}` : token;
  if (!t.startsWith("/")) return undefined;
  try {
    return pathOf(t, search, hash);
  } catch {
    return undefined;
  }
}

const hasHost = (token: string) => Boolean(URL_RE.exec(token)?.groups?.["host"]);
const lines = (text: string) => text.split("\n").map((l) => l.trim());
const dynamic = (from: string) => Boolean(from.match(SPLAT) || from.match(PLACEHOLDER));

/** A line Cloudflare skips, with wrangler's reason (wrangler prints them at deploy time). */
export type InvalidRule = { lineNumber?: number; line?: string; message: string };

export function parseRedirects(text: string, htmlHandling?: string, invalid: InvalidRule[] = []): AssetRules["redirects"] {
  const out: AssetRules["redirects"] = { staticRules: {}, rules: {} };
  const seen = new Set<string>();
  let statics = 0;
  let dynamics = 0;
  let canBeStatic = true;
  const all = lines(text);
  for (let i = 0; i < all.length; i++) {
    const line = all[i]!;
    const skip = (message: string) => void invalid.push({ lineNumber: i + 1, line, message });
    if (line === "" || line.startsWith("#")) continue;
    if (line.length > MAX_LINE_LENGTH) {
      invalid.push({ message: `Ignoring line ${i + 1} as it exceeds the maximum allowed length of ${MAX_LINE_LENGTH}.` });
      continue;
    }
    const tokens = line.replace(/\s+#.*$/, "").split(/\s+/);
    if (tokens.length < 2 || tokens.length > 3) {
      skip(`Expected exactly 2 or 3 whitespace-separated tokens. Got ${tokens.length}.`);
      continue;
    }
    const [rawFrom, rawTo, rawStatus = "302"] = tokens as [string, string, string?];
    const from = validUrl(rawFrom, true, true, false, false);
    if (from === undefined) {
      skip(
        hasHost(rawFrom) ? `Only relative URLs are allowed. Skipping absolute URL ${rawFrom}.` : "URLs should begin with a forward-slash.",
      );
      continue;
    }
    // The limits count every rule that got this far, valid or not, as Cloudflare's parser does.
    if (canBeStatic && !dynamic(from)) {
      if (++statics > MAX_STATIC_REDIRECTS) {
        invalid.push({ message: `Maximum number of static rules supported is ${MAX_STATIC_REDIRECTS}. Skipping line.` });
        continue;
      }
    } else {
      canBeStatic = false;
      if (++dynamics > MAX_DYNAMIC_REDIRECTS) {
        invalid.push({
          message: `Maximum number of dynamic rules supported is ${MAX_DYNAMIC_REDIRECTS}. Skipping remaining ${all.length - i} lines of file.`,
        });
        break;
      }
    }
    const to = validUrl(rawTo, false, false, true, true);
    if (to === undefined) {
      skip('URLs should either be relative (e.g. begin with a forward-slash), or use HTTPS (e.g. begin with "https://").');
      continue;
    }
    const status = Number(rawStatus);
    if (!PERMITTED_STATUS.has(status)) {
      skip(`Valid status codes are 200, 301, 302 (default), 303, 307, or 308. Got ${rawStatus}.`);
      continue;
    }
    const relative = !hasHost(to);
    const loops =
      (from.endsWith("/*") && /\/index(.html)?$/.test(to)) ||
      (from.endsWith("/") && /\/index(.html)?$/.test(to) && htmlHandling !== "none");
    if (relative && loops) {
      skip(
        "Infinite loop detected in this rule and has been ignored. This will cause a redirect to strip `.html` or `/index` and end up triggering this rule again. Please fix or remove this rule to silence this warning.",
      );
      continue;
    }
    if (seen.has(from)) {
      skip(`Ignoring duplicate rule for path ${from}.`);
      continue;
    }
    seen.add(from);
    if (status === 200 && !relative) {
      skip(`Proxy (200) redirects can only point to relative paths. Got ${to}`);
      continue;
    }
    // constructRedirects: rules before the first dynamic one are looked up exactly; the rest in order.
    if (!dynamic(from) && Object.keys(out.rules).length === 0) out.staticRules[from] = { status, to, lineNumber: i + 1 };
    else out.rules[from] = { status, to };
  }
  return out;
}

export function parseHeaders(text: string, invalid: InvalidRule[] = []): AssetRules["headers"] {
  const out: AssetRules["headers"] = {};
  let count = 0;
  let rule: { path: string; line: string; set: Record<string, string>; unset: string[] } | undefined;
  let skipping = false;
  const close = () => {
    if (!rule) return;
    if (Object.keys(rule.set).length > 0 || rule.unset.length > 0) {
      out[rule.path] = { ...(Object.keys(rule.set).length ? { set: rule.set } : {}), ...(rule.unset.length ? { unset: rule.unset } : {}) };
      count++;
    } else invalid.push({ line: rule.line, message: "No headers specified" });
  };
  const all = lines(text);
  for (let i = 0; i < all.length; i++) {
    const line = all[i]!;
    const skip = (message: string) => void invalid.push({ lineNumber: i + 1, line, message });
    if (line === "" || line.startsWith("#")) continue;
    if (line.length > MAX_LINE_LENGTH) {
      invalid.push({ message: `Ignoring line ${i + 1} as it exceeds the maximum allowed length of ${MAX_LINE_LENGTH}.` });
      continue;
    }
    if (/^([^\s]+:\/\/|^\/)/.test(line)) {
      // As Cloudflare's parser: the limit counts the rules closed so far; the open one still closes at the end.
      if (count >= MAX_HEADER_RULES) {
        invalid.push({
          message: `Maximum number of rules supported is ${MAX_HEADER_RULES}. Skipping remaining ${all.length - i} lines of file.`,
        });
        break;
      }
      close();
      rule = undefined;
      const path = validUrl(line, false, true, false, false);
      const wildcards = (path?.match(SPLAT) ?? []).length;
      skipping = true;
      if (path === undefined)
        skip('URLs should either be relative (e.g. begin with a forward-slash), or use HTTPS (e.g. begin with "https://").');
      else if (wildcards > 1)
        skip(`Only one wildcard is allowed per rule. Use a named placeholder (e.g. :project) instead. Skipping ${path}.`);
      else if (wildcards > 0 && /:splat(?!\w)/.test(path))
        skip(
          `Cannot combine a wildcard * with a :splat placeholder because wildcards are converted to :splat at runtime. Skipping ${path}.`,
        );
      else {
        skipping = false;
        rule = { path, line, set: {}, unset: [] };
      }
      continue;
    }
    if (skipping) continue;
    if (!line.includes(":")) {
      if (!rule) skip("Expected a path beginning with at least one forward-slash");
      else if (line.startsWith("! ")) rule.unset.push(line.slice(2));
      else skip("Expected a colon-separated header pair (e.g. name: value)");
      continue;
    }
    const [rawName, ...rest] = line.split(":");
    const name = (rawName ?? "").trim().toLowerCase();
    const value = rest.join(":").trim();
    if (name.includes(" ")) skip("Header name cannot include spaces");
    else if (name === "") skip("No header name specified");
    else if (value === "") skip("No header value specified");
    else if (!rule) skip(`Path should come before header (${name}: ${value})`);
    else rule.set[name] = rule.set[name] ? `${rule.set[name]}, ${value}` : value;
  }
  close();
  return out;
}

const escapeRegex = (s: string) => s.replace(/[-/\\^$*+?.()|[\]{}]/g, "\\$&");

/** A rule's pattern as the asset-worker compiles it: `*` is the splat, `:name` one segment. */
export function ruleSource(rule: string): string {
  let re = rule.split("*").map(escapeRegex).join("(?<splat>.*)");
  for (const m of re.matchAll(/(?<=^https:\\\/\\\/[^/]*?):([A-Za-z]\w*)(?=\\)/g)) re = re.split(m[0]).join(`(?<${m[1]}>[^/.]+)`);
  for (const m of re.matchAll(/:([A-Za-z]\w*)/g)) re = re.split(m[0]).join(`(?<${m[1]}>[^/]+)`);
  return re;
}

const replace = (s: string, groups: Record<string, string>) =>
  Object.entries(groups).reduce((acc, [k, v]) => acc.replaceAll(`:${k}`, v), s);

function matchRules<T>(rules: Record<string, T>, url: URL): Array<{ rule: T; groups: Record<string, string> }> {
  const out: Array<{ rule: T; groups: Record<string, string> }> = [];
  for (const [pattern, rule] of Object.entries(rules)) {
    const source = ruleSource(pattern);
    try {
      new RegExp(`^${source}$`);
    } catch {
      continue;
    }
    // The regex only says the pattern is valid (a name used twice is not); its exec could take minutes.
    const groups = matchTokens(
      patternTokens(source),
      pattern.startsWith("https://") ? `https://${url.hostname}${url.pathname}` : url.pathname,
    );
    if (groups) out.push({ rule, groups });
  }
  return out;
}

function normalizeTarget(value: string, groups: Record<string, string>): string {
  const external = /^(?:\w+:\/\/|\/\/[^/\\\s?#])/.test(value.trim());
  const target = replace(value, groups).trim();
  if (external) return target;
  const cut = target.search(/[?#]/);
  const path = cut === -1 ? target : target.slice(0, cut);
  return path.replace(/[/\\]+/g, "/") + (cut === -1 ? "" : target.slice(cut));
}

/**
 * What `_redirects` does with a request: a redirect response, a rewrite (200: serve another path),
 * or nothing. Exact rules first (the earlier line wins between host and path spellings), then the
 * first dynamic rule that matches. The query string is kept unless the target sets its own.
 */
export function applyRedirects(r: AssetRules["redirects"], request: Request): Response | { rewrite: string } | null {
  const url = new URL(request.url);
  const withHost = r.staticRules[`https://${url.host}${url.pathname}`];
  const withoutHost = r.staticRules[url.pathname];
  const exact =
    withHost && withoutHost ? (withHost.lineNumber < withoutHost.lineNumber ? withHost : withoutHost) : (withHost ?? withoutHost);
  const found =
    exact ?? matchRules(r.rules, url).map(({ rule, groups }) => ({ status: rule.status, to: normalizeTarget(rule.to, groups) }))[0];
  if (!found) return null;
  if (found.status === 200) return { rewrite: new URL(found.to, request.url).pathname };
  const dest = new URL(found.to, request.url);
  const search = dest.search || url.search;
  const location =
    dest.origin === url.origin
      ? `${dest.pathname}${search}${dest.hash}`
      : `${dest.href.slice(0, dest.href.length - (dest.search.length + dest.hash.length))}${search}${dest.hash}`;
  return new Response(null, { status: PERMITTED_STATUS.has(found.status) ? found.status : 302, headers: { location } });
}

/** `_headers` on an asset answer: every matching rule in file order; `! name` removes, a repeated name is appended. */
export function applyHeaders(rules: AssetRules["headers"], request: Request, response: Response): Response {
  const matches = matchRules(rules, new URL(request.url));
  if (matches.length === 0) return response;
  const out = new Response(response.body, response);
  const set = new Set<string>();
  for (const { rule, groups } of matches) {
    for (const name of rule.unset ?? []) out.headers.delete(name);
    for (const [name, value] of Object.entries(rule.set ?? {})) {
      const v = replace(value, groups);
      if (set.has(name.toLowerCase())) out.headers.append(name, v);
      else {
        out.headers.set(name, v);
        set.add(name.toLowerCase());
      }
    }
  }
  return out;
}
