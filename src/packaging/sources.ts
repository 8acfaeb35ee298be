// The Worker sources a kit carries: the project root of every worker the spec names (for a worker
// of orchestrator.yaml, the spec's directory; for a `wrangler:` worker, its file's directory), so
// the daemon on the VPS finds every entry module, wrangler file, module, D1 migration and asset it
// bundles, and each project's package.json and lockfile (setup-vps.sh runs `npm ci` there).
// Carried rather than fetched from a git revision: the kit then works offline and releases exactly
// what was planned here, and a test can check it end to end.
//
// Never carried: dependencies and tool state (node_modules, .git, .wrangler), the orchestrator's
// own data (.cbo and any protected path: data directory, key files, the edge's state), and files
// that hold secrets by convention (.dev.vars*, .env and .env.* but .env.example, .npmrc, *.pem,
// *.key, SSH keys). Their names are listed in the README so the operator knows what to bring.
// A symlink is carried as the file it names only when that file is inside the project.
import { lstatSync, readdirSync, readFileSync, realpathSync, statSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import type { ResolvedSpec } from "../config/load.ts";
import { CboError } from "../kit/errors.ts";
import type { ProductFile } from "./product.ts";

/** Directories never carried, wherever they are. */
export const SKIPPED_DIRS = new Set(["node_modules", ".git", ".hg", ".svn", ".wrangler", ".cbo"]);

/** Files never carried: secrets by convention. */
const SECRET_FILES = [
  /^\.dev\.vars(\..+)?$/,
  /^\.env$/,
  /^\.env\.(?!example$).+$/,
  /^\.npmrc$/,
  /\.pem$/,
  /\.key$/,
  /^id_(rsa|dsa|ecdsa|ed25519)(\.pub)?$/,
];

/** A kit is built in memory: a project larger than this is refused rather than half-carried. */
export const MAX_SOURCE_BYTES = 256 * 1024 * 1024;

export type WorkerSources = {
  /** At `config/<path relative to the spec's directory>`. */
  files: ProductFile[];
  /** Secret-looking files left behind, relative to the spec's directory (names only). */
  leftOut: string[];
};

export function readWorkerSources(spec: ResolvedSpec, opts: { protect?: string[] } = {}): WorkerSources {
  const specDir = dirname(resolve(spec.file));
  const protect = (opts.protect ?? []).map((p) => resolve(p));
  const roots: string[] = [];
  for (const w of spec.workers) {
    const rel = relative(specDir, w.root);
    if (rel.startsWith("..") || isAbsolute(rel)) {
      throw new CboError(
        "ERR_VALIDATION",
        `Worker ${w.name}'s project ${w.root} is outside ${specDir}, the directory of ${spec.file}: the kit carries Worker projects at their place relative to orchestrator.yaml.`,
        { hint: "Move orchestrator.yaml to a directory above every Worker project (paths in it are relative to it)." },
      );
    }
    roots.push(resolve(w.root));
  }
  // A root inside another root is carried with it.
  const unique = [...new Set(roots)].sort((a, b) => a.length - b.length).filter((r, i, all) => !all.slice(0, i).some((o) => within(r, o)));
  const files: ProductFile[] = [];
  const leftOut: string[] = [];
  let bytes = 0;
  const specFile = resolve(spec.file);
  const walk = (dir: string, root: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const abs = join(dir, e.name);
      if (protect.some((p) => abs === p || within(abs, p))) continue;
      const link = lstatSync(abs);
      if (link.isDirectory()) {
        if (!SKIPPED_DIRS.has(e.name)) walk(abs, root);
        continue;
      }
      const rel = relative(specDir, abs).split(sep).join("/");
      if (SECRET_FILES.some((re) => re.test(e.name))) {
        leftOut.push(rel);
        continue;
      }
      if (abs === specFile) continue; // config/orchestrator.yaml is written by the kit itself
      if (link.isSymbolicLink()) {
        const real = realpathOrNull(abs);
        const st = real ? statSync(real) : undefined;
        if (st?.isDirectory()) continue; // as the assets walk: linked directories are not entered
        if (!real || !st?.isFile() || !within(real, realpathOrNull(root) ?? root) || protect.some((p) => real === p || within(real, p))) {
          throw new CboError(
            "ERR_BUNDLE_CONFINED",
            `The kit would carry ${abs}, a symlink to ${real ?? "nothing"}, outside the project ${root}.`,
            {
              details: { file: abs, realPath: real, root },
              hint: "Copy the file into the project instead of linking to it, or remove the link.",
            },
          );
        }
      } else if (!link.isFile()) continue;
      const data = readFileSync(abs);
      bytes += data.length;
      if (bytes > MAX_SOURCE_BYTES) {
        throw new CboError(
          "ERR_VALIDATION",
          `The Worker projects under ${specDir} hold more than ${MAX_SOURCE_BYTES} bytes: too much to carry in a kit.`,
          {
            hint: "Keep build outputs and large data out of the Worker projects (or in node_modules/.git), or list them where the kit does not look.",
          },
        );
      }
      files.push({ path: `config/${rel}`, data, mode: link.mode & 0o111 ? 0o755 : 0o644 });
    }
  };
  for (const root of unique) walk(root, root);
  return { files, leftOut };
}

const within = (p: string, dir: string) => p === dir || p.startsWith(dir.endsWith(sep) ? dir : dir + sep);

function realpathOrNull(p: string): string | null {
  try {
    return realpathSync(p);
  } catch {
    return null;
  }
}
