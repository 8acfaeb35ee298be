// The `_redirects` and `_headers` files of a Worker's static assets, as Cloudflare reads and applies
// them (workers-shared utils/configuration/parseRedirects.ts, parseHeaders.ts, and the asset-worker's
// rules engine): parsed once per version on the edge's side, matched per request in the router.
// Invalid lines are skipped, as Cloudflare skips them (wrangler prints the reasons at deploy time).
// Pure, so Node tests run it too.

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

export function parseRedirects(text: string, htmlHandling?: string): AssetRules["redirects"] {
  const out: AssetRules["redirects"] = { staticRules: {}, rules: {} };
  const seen = new Set<string>();
  let statics = 0;
  let dynamics = 0;
  let canBeStatic = true;
  const all = lines(text);
  for (let i = 0; i < all.length; i++) {
    const line = all[i]!;
    if (line === "" || line.startsWith("#") || line.length > MAX_LINE_LENGTH) continue;
    const tokens = line.replace(/\s+#.*$/, "").split(/\s+/);
    if (tokens.length < 2 || tokens.length > 3) continue;
    const [rawFrom, rawTo, rawStatus = "302"] = tokens as [string, string, string?];
    const from = validUrl(rawFrom, true, true, false, false);
    if (from === undefined) continue;
    // The limits count every rule that got this far, valid or not, as Cloudflare's parser does.
    if (canBeStatic && !dynamic(from)) {
      if (++statics > MAX_STATIC_REDIRECTS) continue;
    } else {
      canBeStatic = false;
      if (++dynamics > MAX_DYNAMIC_REDIRECTS) break;
    }
    const to = validUrl(rawTo, false, false, true, true);
    const status = Number(rawStatus);
    if (to === undefined || !PERMITTED_STATUS.has(status)) continue;
    const relative = !hasHost(to);
    const loops =
      (from.endsWith("/*") && /\/index(.html)?$/.test(to)) ||
      (from.endsWith("/") && /\/index(.html)?$/.test(to) && htmlHandling !== "none");
    if ((relative && loops) || seen.has(from) || (status === 200 && !relative)) continue;
    seen.add(from);
    // constructRedirects: rules before the first dynamic one are looked up exactly; the rest in order.
    if (!dynamic(from) && Object.keys(out.rules).length === 0) out.staticRules[from] = { status, to, lineNumber: i + 1 };
    else out.rules[from] = { status, to };
  }
  return out;
}

export function parseHeaders(text: string): AssetRules["headers"] {
  const out: AssetRules["headers"] = {};
  let count = 0;
  let rule: { path: string; set: Record<string, string>; unset: string[] } | undefined;
  let skipping = false;
  const close = () => {
    if (rule && (Object.keys(rule.set).length > 0 || rule.unset.length > 0)) {
      out[rule.path] = { ...(Object.keys(rule.set).length ? { set: rule.set } : {}), ...(rule.unset.length ? { unset: rule.unset } : {}) };
      count++;
    }
  };
  for (const line of lines(text)) {
    if (line === "" || line.startsWith("#") || line.length > MAX_LINE_LENGTH) continue;
    if (/^([^\s]+:\/\/|^\/)/.test(line)) {
      close();
      rule = undefined;
      if (count >= MAX_HEADER_RULES) break;
      const path = validUrl(line, false, true, false, false);
      const wildcards = (path?.match(SPLAT) ?? []).length;
      skipping = path === undefined || wildcards > 1 || (wildcards > 0 && /:splat(?!\w)/.test(path));
      if (!skipping) rule = { path: path!, set: {}, unset: [] };
      continue;
    }
    if (skipping || !rule) continue;
    if (!line.includes(":")) {
      if (line.startsWith("! ")) rule.unset.push(line.slice(2));
      continue;
    }
    const [rawName, ...rest] = line.split(":");
    const name = (rawName ?? "").trim().toLowerCase();
    const value = rest.join(":").trim();
    if (name === "" || name.includes(" ") || value === "") continue;
    rule.set[name] = rule.set[name] ? `${rule.set[name]}, ${value}` : value;
  }
  close();
  return out;
}

const escapeRegex = (s: string) => s.replace(/[-/\\^$*+?.()|[\]{}]/g, "\\$&");

/** A rule's pattern as the asset-worker compiles it: `*` is the splat, `:name` one segment. */
function ruleRegExp(rule: string): RegExp {
  let re = rule.split("*").map(escapeRegex).join("(?<splat>.*)");
  for (const m of re.matchAll(/(?<=^https:\\\/\\\/[^/]*?):([A-Za-z]\w*)(?=\\)/g)) re = re.split(m[0]).join(`(?<${m[1]}>[^/.]+)`);
  for (const m of re.matchAll(/:([A-Za-z]\w*)/g)) re = re.split(m[0]).join(`(?<${m[1]}>[^/]+)`);
  return new RegExp(`^${re}$`);
}

const replace = (s: string, groups: Record<string, string>) =>
  Object.entries(groups).reduce((acc, [k, v]) => acc.replaceAll(`:${k}`, v), s);

function matchRules<T>(rules: Record<string, T>, url: URL): Array<{ rule: T; groups: Record<string, string> }> {
  const out: Array<{ rule: T; groups: Record<string, string> }> = [];
  for (const [pattern, rule] of Object.entries(rules)) {
    let re: RegExp;
    try {
      re = ruleRegExp(pattern);
    } catch {
      continue;
    }
    const m = re.exec(pattern.startsWith("https://") ? `https://${url.hostname}${url.pathname}` : url.pathname);
    if (m) out.push({ rule, groups: { ...m.groups } });
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
