// The migration files of a D1 binding, found and ordered as `wrangler d1 migrations apply` finds
// them (workers-utils/src/d1-migrations.ts, wrangler/src/d1/migrations/helpers.ts; FLEET §1.9):
//   where    `migrations_dir` (default ./migrations), files matching `migrations_pattern`
//            (default `<dir>/*.sql`; minimatch with dot: false), walked without entering
//            directories the pattern cannot reach; symlinks are skipped (neither file nor dir)
//   name     the path relative to the directory, forward slashes (what d1_migrations records)
//   order    segment by segment: a leading number (`0002_x.sql` -> 2) first and by value, then
//            the segment's text; a shorter path first
//   pending  the files whose name the table does not hold, in that order (a set difference, not
//            "everything after the last applied")
// Only the glob syntax migration patterns use is supported (`*`, `?`, `**`, `[…]`, `{a,b}`);
// anything else (negation, extglobs, ranges `{1..3}`) is refused rather than matched differently.
import { readdir, readFile, stat } from "node:fs/promises";
import { join, posix, relative, resolve } from "node:path";
import { CboError } from "../kit/errors.ts";
import { createConfinement } from "./confine.ts";

export type D1MigrationFile = {
  /** What the migrations table records, e.g. `0001_init.sql` or `20250101_init/migration.sql`. */
  name: string;
  /** Absolute path. */
  file: string;
};

export type D1MigrationsOptions = {
  /** The migrations directory (absolute; WorkerSource's `migrations.dir`). */
  dir: string;
  /** `migrations_pattern` as written in the wrangler file: it starts with `migrations_dir/`. */
  pattern?: string;
  /** The directory the wrangler file's paths are relative to (its own directory); default `root`. */
  patternBase?: string;
  /** The Worker's project root: the files must lie inside it (confine.ts). */
  root: string;
  protect?: string[];
  worker?: string;
};

/** wrangler's normalizeRelativePath: forward slashes, normalized, no trailing slash. */
function normalizeRelativePath(p: string): string {
  const n = posix.normalize(p.replace(/\\/g, "/"));
  return n.endsWith("/") ? n.slice(0, -1) : n;
}

/** The files of a migrations directory in wrangler's order; none when the directory does not exist. */
export async function listD1MigrationFiles(opts: D1MigrationsOptions): Promise<D1MigrationFile[]> {
  const c = createConfinement({ root: opts.root, protect: opts.protect ?? [], ...(opts.worker ? { worker: opts.worker } : {}) });
  const dir = resolve(opts.dir);
  c.check(dir);
  if (!(await stat(dir).catch(() => undefined))?.isDirectory()) return [];
  const pattern = dirRelativePattern(dir, opts);
  const matcher = compileGlob(pattern);
  const names: string[] = [];
  const stack: Array<{ abs: string; rel: string }> = [{ abs: dir, rel: "" }];
  while (stack.length > 0) {
    const { abs, rel } = stack.pop()!;
    const entries = await readdir(abs, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const childRel = rel === "" ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) {
        if (matcher.partial(childRel)) stack.push({ abs: join(abs, e.name), rel: childRel });
      } else if (e.isFile() && matcher.match(childRel)) names.push(childRel);
    }
  }
  return names.sort(compareMigrationPaths).map((name) => ({ name, file: join(dir, ...name.split("/")) }));
}

/** The SQL text of a migration file, read through the confinement. */
export async function readD1Migration(
  file: D1MigrationFile,
  opts: Pick<D1MigrationsOptions, "root" | "protect" | "worker">,
): Promise<string> {
  const c = createConfinement({ root: opts.root, protect: opts.protect ?? [], ...(opts.worker ? { worker: opts.worker } : {}) });
  c.check(file.file);
  return readFile(file.file, "utf8");
}

/** The migrations not yet applied, in file order: names missing from `applied`. */
export function pendingD1Migrations<T extends string | { name: string }>(files: T[], applied: Iterable<string>): T[] {
  const done = new Set(applied);
  return files.filter((f) => !done.has(typeof f === "string" ? f : f.name));
}

/** wrangler's compareMigrationPaths. */
export function compareMigrationPaths(a: string, b: string): number {
  const as = a.split("/");
  const bs = b.split("/");
  for (let i = 0; i < Math.min(as.length, bs.length); i++) {
    const cmp = compareSegments(as[i]!, bs[i]!);
    if (cmp !== 0) return cmp;
  }
  return as.length - bs.length;
}

function compareSegments(a: string, b: string): number {
  const an = leadingNumber(a);
  const bn = leadingNumber(b);
  if (an !== bn) {
    if (Number.isFinite(an) && Number.isFinite(bn)) return an - bn;
    if (Number.isFinite(an)) return -1;
    if (Number.isFinite(bn)) return 1;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

const leadingNumber = (segment: string) => parseInt(segment.split("/")[0]!.split("_")[0]!, 10);

function dirRelativePattern(dir: string, opts: D1MigrationsOptions): string {
  if (opts.pattern === undefined) return "*.sql";
  const rawDir = normalizeRelativePath(relative(opts.patternBase ?? opts.root, dir) || ".");
  const pattern = normalizeRelativePath(opts.pattern);
  if (rawDir === ".") return pattern;
  if (!pattern.startsWith(`${rawDir}/`)) {
    throw new CboError(
      "ERR_VALIDATION",
      `migrations_pattern "${opts.pattern}" must start with "${rawDir}/" to match migrations_dir "${rawDir}".`,
      {
        hint: `Change migrations_pattern so it starts with ${rawDir}/ (for example "${rawDir}/*.sql"), or change migrations_dir to match it.`,
      },
    );
  }
  return pattern.slice(rawDir.length + 1);
}

// ---- a minimatch subset (dot: false) ------------------------------------------------------------

type Segment = { globstar: true } | { globstar: false; re: RegExp };
type Glob = { match(path: string): boolean; partial(path: string): boolean };

function compileGlob(pattern: string): Glob {
  if (
    pattern.startsWith("!") ||
    pattern.startsWith("#") ||
    /[?*+@!]\(/.test(pattern) ||
    /\{[^{}]*\.\.[^{}]*\}/.test(pattern) ||
    pattern.includes("[:")
  ) {
    throw new CboError("ERR_VALIDATION", `migrations_pattern "${pattern}" uses glob syntax the orchestrator does not support.`, {
      hint: "Use *, ?, **, [abc] and {a,b}, e.g. migrations/*/migration.sql.",
    });
  }
  const alternatives = expandBraces(pattern).map((p) => p.split("/").map(segment));
  const test = (path: string, partial: boolean) => {
    const parts = path.split("/");
    return alternatives.some((segs) => matchSegments(parts, 0, segs, 0, partial));
  };
  return { match: (p) => test(p, false), partial: (p) => test(p, true) };
}

function matchSegments(parts: string[], i: number, segs: Segment[], j: number, partial: boolean): boolean {
  if (i === parts.length) return partial ? true : segs.slice(j).every((s) => s.globstar);
  if (j === segs.length) return false;
  const s = segs[j]!;
  if (s.globstar) {
    if (partial) return true;
    // Zero segments, or one more (never a dot segment, with dot: false).
    return matchSegments(parts, i, segs, j + 1, partial) || (!parts[i]!.startsWith(".") && matchSegments(parts, i + 1, segs, j, partial));
  }
  return s.re.test(parts[i]!) && matchSegments(parts, i + 1, segs, j + 1, partial);
}

function segment(text: string): Segment {
  if (text === "**") return { globstar: true };
  let re = "";
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === "\\" && i + 1 < text.length) re += escape(text[++i]!);
    else if (ch === "*") re += "[^/]*";
    else if (ch === "?") re += "[^/]";
    else if (ch === "[") {
      const close = text.indexOf("]", i + 2);
      if (close < 0) {
        re += "\\[";
        continue;
      }
      let body = text.slice(i + 1, close);
      const negate = body.startsWith("!") || body.startsWith("^");
      if (negate) body = body.slice(1);
      re += `[${negate ? "^" : ""}${body.replace(/[\\\]^]/g, (m) => `\\${m}`)}]`;
      i = close;
    } else re += escape(ch);
  }
  // dot: false: a wildcard never matches a leading dot, nor the names "." and "..".
  const guard = text.startsWith(".") ? "" : "(?!\\.)";
  return { globstar: false, re: new RegExp(`^${guard}${re}$`) };
}

const escape = (ch: string) => ch.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

/** `a/{b,c}/d` -> `a/b/d`, `a/c/d` (nested groups too); a group without a comma stays literal. */
function expandBraces(p: string): string[] {
  let depth = 0;
  let start = -1;
  for (let i = 0; i < p.length; i++) {
    if (p[i] === "\\") {
      i++;
      continue;
    }
    if (p[i] === "{") {
      if (depth++ === 0) start = i;
    } else if (p[i] === "}" && depth > 0 && --depth === 0) {
      const body = p.slice(start + 1, i);
      const options = splitTopLevel(body);
      if (options.length < 2) continue;
      const before = p.slice(0, start);
      const after = p.slice(i + 1);
      return options.flatMap((o) => expandBraces(before + o + after));
    }
  }
  return [p];
}

function splitTopLevel(body: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let from = 0;
  for (let i = 0; i < body.length; i++) {
    if (body[i] === "\\") i++;
    else if (body[i] === "{") depth++;
    else if (body[i] === "}") depth--;
    else if (body[i] === "," && depth === 0) {
      out.push(body.slice(from, i));
      from = i + 1;
    }
  }
  out.push(body.slice(from));
  return out;
}
