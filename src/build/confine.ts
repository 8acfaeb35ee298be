// Which files a Worker's bundle may read. A Worker's code runs at the edge and can serve anything
// it imports, whatever the loader or import attribute (text, json, binary, file, copy, dataurl…),
// so every file a bundling path reads goes through `check()` on its real path (symlinks followed):
//
//   protected  the daemon's data directory, key files and the local edge's state, and any `.cbo`
//              directory: refused even inside the project (wins over every rule below)
//   project    inside the Worker's project root (ResolvedWorker.root)
//   packages   inside a node_modules directory on the root's lookup path (<root>/node_modules,
//              <parent>/node_modules, … up to /), where npm installs dependencies and hoists them
//   product    the orchestrator's own edge library (src/edge, src/kit) and its node_modules, for
//              `clawdbot-orchestrator/edge` resolved by package self-reference
//   anything else is outside: absolute paths, `../` paths and symlinks out of the project, and a
//   package linked from outside it (an npm workspace whose real path is elsewhere).
//
// esbuild only reads what plugins let it load, except package.json and tsconfig.json files met
// while resolving; their text can surface in esbuild's error messages, so bundle errors are
// screened too (`screenMessages`). Rename-races inside the project are out of scope: whoever can
// swap files there while the daemon bundles can already run code as the daemon's user.
import { realpathSync } from "node:fs";
import { basename, dirname, isAbsolute, join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import type { Message, Metafile, Plugin } from "esbuild";
import { CboError, isCboError } from "../kit/errors.ts";

export type ConfineOptions = {
  /** The Worker's project root (see ResolvedWorker.root). */
  root: string;
  /** Never readable, even inside the root: directories (with everything in them) and files (with `<file>.*` siblings such as `master.key.next`). */
  protect?: string[];
  /** Extra directories whose files may be read. */
  allow?: string[];
  /** The worker's name, for messages. */
  worker?: string;
};

export type Rule = "protected" | "outside-project";

export type Confinement = {
  /** The real path of the project root. */
  root: string;
  /**
   * The real path of `file` when a bundle may read it; throws ERR_BUNDLE_CONFINED otherwise.
   * A file that does not exist is checked through its nearest existing parent.
   */
  check(file: string, via?: { importer?: string; specifier?: string; entry?: boolean }): string;
  /** Like check(), without throwing: the rule broken, or null. */
  rule(file: string): Rule | null;
};

const PRODUCT_DIRS = ["../edge/", "../kit/", "../../node_modules/"].map((p) => fileURLToPath(new URL(p, import.meta.url)));

/** `file` with symlinks resolved; for a path that does not exist, its nearest existing parent's real path plus the rest. */
export function realish(file: string): string {
  const abs = resolve(file);
  const rest: string[] = [];
  let at = abs;
  for (;;) {
    try {
      return join(realpathSync(at), ...rest.reverse());
    } catch {
      const up = dirname(at);
      if (up === at) return abs;
      rest.push(basename(at));
      at = up;
    }
  }
}

const inside = (file: string, dir: string) => file === dir || file.startsWith(dir.endsWith(sep) ? dir : dir + sep);

export function createConfinement(opts: ConfineOptions): Confinement {
  const root = realish(opts.root);
  const packages: string[] = [];
  for (let at = root; ; at = dirname(at)) {
    packages.push(realish(join(at, "node_modules")));
    if (dirname(at) === at) break;
  }
  const allowed = [root, ...packages, ...PRODUCT_DIRS.map(realish), ...(opts.allow ?? []).map(realish)];
  // Both spellings of each protected path: the one given and the real one.
  const protect = [...new Set((opts.protect ?? []).flatMap((p) => [resolve(p), realish(p)]))];

  const rule = (file: string): Rule | null => {
    const real = realish(file);
    if (real.split(sep).includes(".cbo")) return "protected";
    for (const p of protect) {
      if (inside(real, p)) return "protected";
      if (dirname(real) === dirname(p) && basename(real).startsWith(basename(p) + ".")) return "protected";
    }
    return allowed.some((dir) => inside(real, dir)) ? null : "outside-project";
  };

  return {
    root,
    rule,
    check(file, via = {}) {
      const broken = rule(file);
      if (broken === null) return realish(file);
      throw confinedError(broken, file, root, { ...via, ...(opts.worker ? { worker: opts.worker } : {}) });
    },
  };
}

function confinedError(
  rule: Rule,
  file: string,
  root: string,
  via: { importer?: string; specifier?: string; entry?: boolean; worker?: string; screened?: boolean },
): CboError {
  const real = realish(file);
  const shown = real === resolve(file) ? real : `${resolve(file)} (really ${real})`;
  const who = via.worker ? `Worker ${via.worker}` : "The Worker";
  const how = via.entry
    ? `${who}'s main module ${shown}`
    : via.importer
      ? `${shown}, imported as "${via.specifier}" by ${via.importer},`
      : via.screened
        ? `${shown} (read by esbuild while resolving imports, e.g. as a package.json or tsconfig.json; its error is withheld)`
        : shown;
  const why =
    rule === "protected"
      ? "is the orchestrator's own data (its data directory, a key file or the local edge's state), which no Worker may bundle"
      : `is outside the Worker's project root ${root}`;
  return new CboError("ERR_BUNDLE_CONFINED", `${who} cannot be bundled: ${how} ${why}.`, {
    details: {
      ...(via.worker ? { worker: via.worker } : {}),
      file: resolve(file),
      realPath: real,
      rule,
      root,
      ...(via.importer ? { importer: via.importer, specifier: via.specifier } : {}),
    },
    hint:
      rule === "protected"
        ? "Remove that import; keep secrets in the vault (cbo secrets set) and list them under the worker's `secrets:`."
        : "A bundle reads only files inside the project root (the directory of orchestrator.yaml, or of the wrangler file when that lies outside it) and installed packages in node_modules. Move the file into the project; a package linked from outside it (e.g. an npm workspace) needs orchestrator.yaml at the workspace root.",
  });
}

/**
 * The esbuild plugin: put it first in `plugins` so that it sees every import and every load.
 * onResolve refuses path imports (absolute, ./, ../) that lead out early, naming the importer;
 * onLoad checks every module esbuild is about to read, whatever resolved it.
 */
export function confinePlugin(c: Confinement): Plugin {
  return {
    name: "cbo-confine",
    setup(build) {
      build.onResolve({ filter: /.*/ }, (args) => {
        const spec = args.path;
        const pathLike = isAbsolute(spec) || spec.startsWith("./") || spec.startsWith("../") || spec === "." || spec === "..";
        if (pathLike && (args.namespace === "file" || args.namespace === "")) {
          const target = isAbsolute(spec) ? spec : resolve(args.resolveDir, spec);
          c.check(target, args.kind === "entry-point" ? { entry: true } : { importer: args.importer, specifier: spec });
        }
        return undefined;
      });
      build.onLoad({ filter: /.*/, namespace: "file" }, (args) => {
        c.check(args.path);
        return undefined;
      });
    },
  };
}

/** After a build: every input esbuild recorded must pass too (whatever plugin brought it in). */
export function checkMetafile(c: Confinement, metafile: Metafile, workingDir: string): void {
  for (const [key, input] of Object.entries(metafile.inputs)) {
    // Keys are paths relative to the working dir, `ns:path` for other namespaces, and carry a
    // ` with { type: 'text' }` suffix when imported with attributes.
    const path = input.with ? key.replace(/ with \{.*\}$/, "") : key;
    const ns = /^([a-z][\w-]*):/i.exec(path)?.[1];
    if (ns && ns !== "file") continue;
    c.check(resolve(workingDir, ns === "file" ? path.slice(5) : path));
  }
}

/**
 * Bundle errors, screened: a confinement error thrown by the plugin wins; a message located in a
 * file the bundle may not read (a package.json or tsconfig.json met while resolving, e.g. a
 * symlink to a key) becomes a confinement error naming the file, never quoting its text.
 */
export function screenMessages(c: Confinement, messages: Message[], workingDir: string, worker?: string): CboError | undefined {
  for (const m of messages) if (isCboError(m.detail)) return m.detail;
  for (const m of messages) {
    for (const loc of [m.location, ...m.notes.map((n) => n.location)]) {
      if (!loc || (loc.namespace && loc.namespace !== "file")) continue;
      const file = resolve(workingDir, loc.file);
      const broken = c.rule(file);
      if (broken) return confinedError(broken, file, c.root, { screened: true, ...(worker ? { worker } : {}) });
    }
  }
  return undefined;
}
