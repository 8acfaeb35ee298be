// Which static asset answers a path, the way Cloudflare's asset-worker decides it (workers-shared
// asset-worker/src/handler.ts): html_handling maps `/foo`, `/foo/`, `/foo.html` and
// `/foo/index.html` onto one file and redirects (307) the other spellings to the canonical one;
// not_found_handling picks what answers a path no file claims. Pure, so Node tests run it too.
import { wildcardMatch } from "./wildcard-match.ts";

export type HtmlHandling = "auto-trailing-slash" | "force-trailing-slash" | "drop-trailing-slash" | "none";
export type NotFoundHandling = "single-page-application" | "404-page" | "none";
export type AssetConfig = { html_handling: HtmlHandling; not_found_handling: NotFoundHandling };

/** A manifest lookup: the content hash of the file at `path`, if any. */
export type Exists = (path: string) => string | undefined;

export type Intent = { hash: string; status: 200 | 404 } | { redirect: string } | null;

const asset = (hash: string, status: 200 | 404 = 200): Intent => ({ hash, status });

export function assetIntent(pathname: string, cfg: AssetConfig, exists: Exists, skipRedirects = false): Intent {
  // `file` is served at `dest` when asking for `dest` itself would land on that same file.
  const redirect = (file: string, dest: string): Intent => {
    if (skipRedirects || exists(dest)) return null;
    const there = assetIntent(dest, cfg, exists, true);
    return there && "hash" in there && there.hash === exists(file) ? { redirect: dest } : null;
  };
  const p = pathname;
  const exact = exists(p);
  const first = (...tries: Array<() => Intent>): Intent => {
    for (const t of tries) {
      const r = t();
      if (r) return r;
    }
    return null;
  };
  const served = (path: string) => () => {
    const h = exists(path);
    return h ? asset(h) : null;
  };
  const exactly = () => (exact ? asset(exact) : null);
  const cut = (suffix: string) => p.slice(0, -suffix.length);

  let found: Intent = null;
  switch (cfg.html_handling) {
    case "none":
      found = exactly();
      break;
    case "auto-trailing-slash":
      if (p.endsWith("/index"))
        found = first(
          exactly,
          () => redirect(`${p}.html`, cut("index")),
          () => redirect(`${cut("/index")}.html`, cut("/index")),
        );
      else if (p.endsWith("/index.html"))
        found = first(
          () => redirect(p, cut("index.html")),
          () => redirect(`${cut("/index.html")}.html`, cut("/index.html")),
        );
      else if (p.endsWith("/")) found = first(served(`${p}index.html`), () => redirect(`${cut("/")}.html`, cut("/")));
      else if (p.endsWith(".html"))
        found = first(
          () => redirect(p, cut(".html")),
          () => redirect(`${cut(".html")}/index.html`, `${cut(".html")}/`),
        );
      found ??= first(exactly, served(`${p}.html`), () => redirect(`${p}/index.html`, `${p}/`));
      break;
    case "force-trailing-slash":
      if (p.endsWith("/index"))
        found = first(
          exactly,
          () => redirect(`${p}.html`, cut("index")),
          () => redirect(`${cut("/index")}.html`, cut("index")),
        );
      else if (p.endsWith("/index.html"))
        found = first(
          () => redirect(p, cut("index.html")),
          () => redirect(`${cut("/index.html")}.html`, cut("index.html")),
        );
      else if (p.endsWith("/")) found = first(served(`${p}index.html`), served(`${cut("/")}.html`));
      else if (p.endsWith(".html"))
        found = first(
          () => redirect(p, `${cut(".html")}/`),
          exactly,
          () => redirect(`${cut(".html")}/index.html`, `${cut(".html")}/`),
        );
      found ??= first(
        exactly,
        () => redirect(`${p}.html`, `${p}/`),
        () => redirect(`${p}/index.html`, `${p}/`),
      );
      break;
    case "drop-trailing-slash":
      if (p.endsWith("/index")) {
        found = exact
          ? asset(exact)
          : p === "/index"
            ? redirect("/index.html", "/")
            : first(
                () => redirect(`${cut("/index")}.html`, cut("/index")),
                () => redirect(`${p}.html`, cut("/index")),
              );
      } else if (p.endsWith("/index.html")) {
        found =
          p === "/index.html"
            ? redirect("/index.html", "/")
            : first(
                () => redirect(p, cut("/index.html")),
                exactly,
                () => redirect(`${cut("/index.html")}.html`, cut("/index.html")),
              );
      } else if (p.endsWith("/")) {
        found =
          p === "/"
            ? served("/index.html")()
            : first(
                () => redirect(`${cut("/")}.html`, cut("/")),
                () => redirect(`${cut("/")}/index.html`, cut("/")),
              );
      } else if (p.endsWith(".html")) {
        found = first(
          () => redirect(p, cut(".html")),
          () => redirect(`${cut(".html")}/index.html`, cut(".html")),
        );
      }
      found ??= first(exactly, served(`${p}.html`), served(`${p}/index.html`));
      break;
  }
  return found ?? notFound(p, cfg, exists);
}

function notFound(pathname: string, cfg: AssetConfig, exists: Exists): Intent {
  if (cfg.not_found_handling === "single-page-application") {
    const h = exists("/index.html");
    return h ? asset(h) : null;
  }
  if (cfg.not_found_handling === "404-page") {
    for (let dir = pathname; dir; ) {
      dir = dir.slice(0, dir.lastIndexOf("/"));
      const h = exists(`${dir}/404.html`);
      if (h) return asset(h, 404);
    }
  }
  return null;
}

/** Decodes each segment (as the asset-worker does) and folds repeated slashes. */
export function decodeAssetPath(pathname: string): string {
  return pathname
    .split("/")
    .map((x) => {
      try {
        return decodeURIComponent(x);
      } catch {
        return x;
      }
    })
    .join("/")
    .replace(/\/+/g, "/");
}

export function encodeAssetPath(pathname: string): string {
  return pathname
    .split("/")
    .map((x) => encodeURIComponent(x))
    .join("/");
}

/**
 * run_worker_first: true/false, or route patterns (`/api/*`, negated with `!`) that send a request
 * to the Worker before assets. A negative pattern wins over a positive one.
 */
export function runsWorkerFirst(setting: unknown, pathname: string): boolean {
  if (setting === true) return true;
  if (!Array.isArray(setting)) return false;
  const matches = (pattern: string) => globMatch(pattern, pathname);
  let hit = false;
  for (const raw of setting) {
    if (typeof raw !== "string") continue;
    if (raw.startsWith("!")) {
      if (matches(raw.slice(1))) return false;
    } else if (matches(raw)) hit = true;
  }
  return hit;
}

/**
 * `*` is any run of characters, everything else itself, matched without backtracking
 * (kit/wildcard-match.ts): a pattern with a few `*` against a long public request path held the region.
 */
export function globMatch(pattern: string, text: string): boolean {
  return wildcardMatch(pattern, text, { any: "*" });
}
