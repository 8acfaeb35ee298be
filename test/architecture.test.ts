// Import direction: lower layers never import higher ones. Every .ts file under src/ is parsed
// (TypeScript's own parser, so imports inside comments or strings don't count) and each static
// import, `export … from`, dynamic `import("…")` and `import("…")` type is checked against RULES.
import { readdirSync, readFileSync } from "node:fs";
import { isBuiltin } from "node:module";
import { dirname, join, posix, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";

type Rule = {
  /** Layers (other than itself) this layer may import; "*" = anything in src/. */
  may: readonly string[] | "*";
  /** Layers it may import with `import type` / `export type` only (erased at runtime). */
  typesFrom?: readonly string[];
  /** May it import `node:*` (or bare built-in) modules? Default yes. */
  nodeBuiltins?: boolean;
  /** npm packages it may import; default: any. */
  packages?: readonly string[];
};

/**
 * The rule table. A layer is a top-level folder of src/ ("local-edge/workers" is a sub-layer with
 * its own rule: the longest matching prefix wins); "." is a file directly in src/. A layer may
 * always import its own files. A folder not listed here fails the test until it gets a rule.
 */
const RULES: Record<string, Rule> = {
  // Runtime-neutral helpers, used in Node and inside Workers: Web-standard APIs and zod only.
  kit: { may: [], nodeBuiltins: false, packages: ["zod"] },
  config: { may: ["kit"] },
  store: { may: ["kit", "config"] },
  audit: { may: ["kit", "config", "store"] },
  vault: { may: ["kit", "config", "store", "audit"] },
  cloudflare: { may: ["kit", "config"] },
  // Cloudflare's stand-in: it must not depend on our own Cloudflare client.
  "local-edge": { may: ["kit", "config", "local-edge/workers"] },
  // Runs inside workerd: only its own folder and kit.
  "local-edge/workers": { may: ["kit"] },
  // Runs inside Workers: kit and its own files, no Node built-ins.
  edge: { may: ["kit"], nodeBuiltins: false },
  // Bundling the way wrangler does: a WorkerSource in, the modules of a version upload out.
  build: { may: ["kit", "config"] },
  deploy: { may: ["kit", "config", "store", "audit", "vault", "cloudflare", "build"] },
  // Encrypted, integrity-checked archives of the store, vault and audit; restore verifies the chain.
  backup: { may: ["kit", "config", "store", "audit", "vault"] },
  // Probes and health: beside deploy, sharing its target types only.
  monitor: { may: ["kit", "config", "store", "cloudflare"], typesFrom: ["deploy"] },
  // Config sync and agent reports: beside deploy, using its bindings helpers and target types.
  sync: { may: ["kit", "config", "store", "cloudflare", "deploy"] },
  // The setup wizard's engine: steps, checks and files; `cbo init` and GET /v1/setup drive it.
  setup: { may: ["kit", "config", "store", "vault", "cloudflare"], typesFrom: ["deploy"] },
  // Cloudflare Tunnel: tunnel + ingress through the client, cloudflared's files and process, bind policy.
  tunnel: { may: ["kit", "config", "cloudflare"] },
  // The deployment kit: Dockerfile, Compose, PM2, systemd, setup script, README from the spec (no secrets in, none out).
  deploykit: { may: ["kit", "config"] },
  api: { may: ["kit", "config", "store", "audit", "vault", "cloudflare", "deploy", "monitor", "sync", "setup", "tunnel", "deploykit"] },
  // The MCP server for AI agents: talks to the daemon's REST API only, like the CLI.
  mcp: { may: ["kit"], typesFrom: ["api"] },
  dashboard: { may: ["kit"], typesFrom: ["api"] },
  // The top: the `cbo` command (it may start the local edge) and the composition root(s).
  cli: { may: "*" },
  ".": { may: "*" },
};

type Violation = { file: string; specifier: string; rule: string };

type ImportRef = { specifier: string; typeOnly: boolean; line: number; dynamic: boolean; namedZ: boolean };

/** Every module specifier a source file refers to, with whether the reference is erased. */
function findImports(fileName: string, source: string): ImportRef[] {
  const sf = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const refs: ImportRef[] = [];
  const add = (node: ts.Node, spec: ts.Node | undefined, typeOnly: boolean, dynamic = false, namedZ = false) => {
    if (spec === undefined || !(ts.isStringLiteral(spec) || ts.isNoSubstitutionTemplateLiteral(spec))) return;
    const line = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
    refs.push({ specifier: spec.text, typeOnly, line, dynamic, namedZ });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      const bindings = node.importClause?.namedBindings;
      const namedZ = bindings !== undefined && ts.isNamedImports(bindings) && bindings.elements.some((e) => (e.propertyName ?? e.name).text === "z");
      add(node, node.moduleSpecifier, node.importClause?.isTypeOnly ?? false, false, namedZ);
    } else if (ts.isExportDeclaration(node)) {
      add(node, node.moduleSpecifier, node.isTypeOnly);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      add(node, node.moduleReference.expression, node.isTypeOnly);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      add(node, node.arguments[0], false, true);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      add(node, node.argument.literal, true);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return refs;
}

/** The layer (key of RULES) owning a path relative to src/, POSIX separators. */
function layerOf(srcPath: string): string {
  const parts = srcPath.split("/");
  if (parts.length === 1) return ".";
  const candidates = Object.keys(RULES)
    .filter((k) => k !== "." && (srcPath.startsWith(`${k}/`)))
    .sort((a, b) => b.length - a.length);
  return candidates[0] ?? parts[0]!;
}

const isTestFile = (srcPath: string) => /\.test\.ts$/.test(srcPath);

/** Checks one file. `srcPath` is relative to src/ with POSIX separators, e.g. `deploy/plan.ts`. */
function checkSource(srcPath: string, source: string): Violation[] {
  const layer = layerOf(srcPath);
  const rule = RULES[layer];
  const out: Violation[] = [];
  const report = (ref: ImportRef, why: string) =>
    out.push({ file: `src/${srcPath}:${ref.line}`, specifier: ref.specifier, rule: why });
  for (const ref of findImports(srcPath, source)) {
    if (rule === undefined) {
      report(ref, `folder "${layer}" has no rule: add it to RULES in test/architecture.test.ts`);
      continue;
    }
    const spec = ref.specifier;
    if (spec.startsWith(".") || spec.startsWith("/")) {
      const target = posix.normalize(posix.join(posix.dirname(srcPath), spec));
      if (target.startsWith("../") || spec.startsWith("/")) {
        // Unit tests beside the source may use test/ helpers; the source itself may not.
        if (!isTestFile(srcPath)) report(ref, `${layer}: src/ may not import files outside src/`);
        continue;
      }
      const targetLayer = layerOf(target);
      if (targetLayer === layer || rule.may === "*") continue;
      if (rule.may.includes(targetLayer)) continue;
      if (ref.typeOnly && rule.typesFrom?.includes(targetLayer)) continue;
      const allowed = [...rule.may, ...(rule.typesFrom ?? []).map((l) => `${l} (types only)`)];
      report(
        ref,
        `${layer} may import only ${allowed.length ? allowed.join(", ") : "its own files"}, not ${targetLayer}`,
      );
      continue;
    }
    const isNode = spec.startsWith("node:") || isBuiltin(spec);
    if (isNode) {
      if (rule.nodeBuiltins === false) report(ref, `${layer} runs in Workers: no Node built-ins`);
      continue;
    }
    // npm package: compare by package name (`zod/v4` is `zod`, `@scope/pkg/x` is `@scope/pkg`).
    const pkg = spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]!;
    if (rule.packages === undefined || rule.packages.includes(pkg)) continue;
    if (isTestFile(srcPath) && pkg === "vitest") continue;
    report(ref, `${layer} may use only the npm packages ${rule.packages.join(", ") || "(none)"}, not ${pkg}`);
  }
  return out;
}

function listTs(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith(".ts"))
    .map((e) => join(e.parentPath, e.name));
}

const srcDir = join(dirname(fileURLToPath(import.meta.url)), "..", "src");

const packageOf = (spec: string) => (spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]!);

/**
 * What `root` loads as soon as it is imported: src/ files and npm packages reached through static,
 * non-type imports (a dynamic `import()` loads only when it runs, a type import never).
 */
function staticClosure(root: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (srcPath: string) => {
    if (files.has(srcPath)) return;
    files.add(srcPath);
    for (const ref of findImports(srcPath, readFileSync(join(srcDir, srcPath), "utf8"))) {
      if (ref.typeOnly || ref.dynamic) continue;
      if (ref.specifier.startsWith(".")) visit(posix.normalize(posix.join(posix.dirname(srcPath), ref.specifier)));
      else if (!ref.specifier.startsWith("node:") && !isBuiltin(ref.specifier)) packages.add(packageOf(ref.specifier));
    }
  };
  visit(root);
  return { files, packages };
}
const format = (v: Violation) => `${v.file} imports "${v.specifier}": ${v.rule}`;

describe("architecture", () => {
  it("imports point one way (lower layers never import higher ones)", () => {
    const files = listTs(srcDir);
    expect(files.length).toBeGreaterThan(0);
    const violations = files.flatMap((f) =>
      checkSource(relative(srcDir, f).split(sep).join("/"), readFileSync(f, "utf8")),
    );
    expect(violations.map(format), "import rules broken (see RULES in test/architecture.test.ts)").toEqual([]);
  });

  it("run-time code never imports the cloudflare SDK, and only the local edge imports Miniflare", () => {
    const offenders = listTs(srcDir).flatMap((f) => {
      const srcPath = relative(srcDir, f).split(sep).join("/");
      if (isTestFile(srcPath)) return [];
      return findImports(srcPath, readFileSync(f, "utf8"))
        .filter((r) => (r.specifier === "cloudflare" || r.specifier.startsWith("cloudflare/")) || (["miniflare", "workerd"].includes(packageOf(r.specifier)) && layerOf(srcPath) !== "local-edge"))
        .map((r) => `src/${srcPath}:${r.line} imports ${r.specifier}`);
    });
    expect(offenders).toEqual([]);
  });

  it("the daemon (startDaemon, cbo daemon) loads neither the local edge nor the SDK; cbo up and cbo edge load the edge only when run", () => {
    for (const root of ["daemon.ts", "cli/daemon-command.ts", "cli/main.ts", "cli/up-command.ts", "cli/edge-command.ts", "cli/init-command.ts"]) {
      const { files, packages } = staticClosure(root);
      expect([...files].filter((f) => f.startsWith("local-edge/")), root).toEqual([]);
      expect([...packages].filter((p) => ["miniflare", "workerd", "cloudflare", "esbuild"].includes(p)), root).toEqual([]);
    }
  });

  it("kit/ and edge/ (bundled into Workers) import zod as a namespace, which lets the bundler drop what is unused", () => {
    // `import { z } from "zod"` keeps all of zod's locales in a bundle (colinhacks/zod#6597).
    const named = listTs(srcDir).flatMap((f) => {
      const srcPath = relative(srcDir, f).split(sep).join("/");
      if (!["kit", "edge"].includes(layerOf(srcPath))) return [];
      return findImports(srcPath, readFileSync(f, "utf8")).filter((r) => r.namedZ && packageOf(r.specifier) === "zod").map((r) => `src/${srcPath}:${r.line}`);
    });
    expect(named).toEqual([]);
    expect(findImports("kit/x.ts", `import { z } from "zod";\nimport * as y from "zod";\nimport { z as zz } from "zod/mini";`).map((r) => r.namedZ)).toEqual([true, false, true]);
  });

  it("the checker reports synthetic violations and passes allowed imports", () => {
    const kit = [
      `// import { x } from "../deploy/ignored-in-a-comment.ts";`,
      `import { plan } from "../deploy/plan.ts";`,
      `import { readFileSync } from "node:fs";`,
      `import { join } from "path";`,
      `import { Hono } from "hono";`,
      `import { z } from "zod/v4";`,
      `import { other } from "./other.ts";`,
      `export * from "../store/db.ts";`,
      `export const load = () => import("../api/app.ts");`,
      `const s = "import('../api/in-a-string.ts')";`,
    ].join("\n");
    expect(checkSource("kit/bad.ts", kit).map(format)).toEqual([
      `src/kit/bad.ts:2 imports "../deploy/plan.ts": kit may import only its own files, not deploy`,
      `src/kit/bad.ts:3 imports "node:fs": kit runs in Workers: no Node built-ins`,
      `src/kit/bad.ts:4 imports "path": kit runs in Workers: no Node built-ins`,
      `src/kit/bad.ts:5 imports "hono": kit may use only the npm packages zod, not hono`,
      `src/kit/bad.ts:8 imports "../store/db.ts": kit may import only its own files, not store`,
      `src/kit/bad.ts:9 imports "../api/app.ts": kit may import only its own files, not api`,
    ]);

    const workers = `import { a } from "../index.ts";\nimport { b } from "../../kit/ids.ts";\nimport { c } from "./sibling.ts";`;
    expect(checkSource("local-edge/workers/router.worker.ts", workers).map((v) => v.specifier)).toEqual([
      "../index.ts",
    ]);
    expect(checkSource("local-edge/server.ts", `import { c } from "../cloudflare/client.ts";`)).toHaveLength(1);
    expect(checkSource("edge/agent.ts", `import { c } from "node:crypto";`)).toHaveLength(1);
    expect(checkSource("config/load.ts", `import { p } from "../../test/support/x.ts";`)).toHaveLength(1);
    expect(checkSource("nowhere/x.ts", `import { k } from "../kit/ids.ts";`)[0]?.rule).toMatch(/has no rule/);

    const dashboard = `import type { Api } from "../api/types.ts";\nimport { app } from "../api/app.ts";\nexport type T = import("../api/types.ts").Api;`;
    expect(checkSource("dashboard/app.ts", dashboard).map((v) => v.specifier)).toEqual(["../api/app.ts"]);

    expect(checkSource("deploy/apply.ts", `import { c } from "../cloudflare/client.ts";\nimport { z } from "zod";`)).toEqual([]);
    expect(checkSource("cli/up.ts", `const e = await import("../local-edge/index.ts");`)).toEqual([]);
    expect(checkSource("daemon.ts", `import { createApi } from "./api/app.ts";`)).toEqual([]);
  });
});
