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
 * The rule table, lowest layers first. A layer is a top-level folder of src/; a sub-folder with a
 * rule of its own ("local-edge/workers", "cli/commands") is a layer too (the longest matching
 * prefix wins), and so is a single file named here ("cli/main.ts"); "." is a file directly in src/.
 * A layer may always import its own files. A folder not listed here fails the test until it gets
 * a rule.
 */
const RULES: Record<string, Rule> = {
  // Runtime-neutral helpers, used in Node and inside Workers: Web-standard APIs and zod only.
  kit: { may: [], nodeBuiltins: false, packages: ["zod"] },
  // What the API says, runtime-neutral (Node, the browser, a Worker): statuses, the typed event map,
  // request and response schemas. Every layer above may use its vocabulary.
  contract: { may: ["kit"], nodeBuiltins: false, packages: ["zod"] },
  // The one daemon client (CLI, MCP server, dashboard): fetch and an injected socket, browser-safe.
  client: { may: ["kit", "contract"], nodeBuiltins: false, packages: ["zod"] },
  // The daemon's logger, metrics registry and tracer (Node): on kit only, usable by every Node layer.
  telemetry: { may: ["kit"] },
  config: { may: ["kit", "telemetry"] },
  store: { may: ["kit", "telemetry", "contract", "config"] },
  audit: { may: ["kit", "telemetry", "contract", "config", "store"] },
  vault: { may: ["kit", "telemetry", "contract", "config", "store", "audit"] },
  // The vault, audit log and signing key opened together, the audit trail, principals, and the one
  // decision of which master key opens the vault.
  security: { may: ["kit", "telemetry", "contract", "config", "store", "audit", "vault"] },
  cloudflare: { may: ["kit", "telemetry", "config"] },
  // Cloudflare's stand-in: it must not depend on our own Cloudflare client.
  "local-edge": { may: ["kit", "telemetry", "config", "local-edge/workers"] },
  // Runs inside workerd: only its own folder and kit.
  "local-edge/workers": { may: ["kit"] },
  // Runs inside Workers: kit and its own files, no Node built-ins.
  edge: { may: ["kit"], nodeBuiltins: false },
  // The target port: target types, building targets from the spec, the one reader of what a
  // target serves, the one HTTP client for calling Workers, KV namespaces in a target's account.
  targets: { may: ["kit", "telemetry", "config", "cloudflare"] },
  // Bundling the way wrangler does: a WorkerSource in, the modules of a version upload out.
  build: { may: ["kit", "telemetry", "config"] },
  deploy: { may: ["kit", "telemetry", "contract", "config", "store", "audit", "vault", "cloudflare", "build", "targets"] },
  // Encrypted, integrity-checked archives of the store, vault and audit; restore verifies the chain.
  backup: { may: ["kit", "telemetry", "config", "store", "audit", "vault"] },
  // Health only: probes of every Worker on every target, health transitions. It never imports the
  // engine (not even its types): what it shares with deploy is the target port.
  monitor: { may: ["kit", "telemetry", "contract", "config", "store", "targets"] },
  // Config sync and agent reports: beside deploy, on the target port.
  sync: { may: ["kit", "telemetry", "contract", "config", "store", "cloudflare", "targets"] },
  // The setup wizard's engine: steps, checks and files; `cbo init` and GET /v1/setup drive it.
  setup: { may: ["kit", "telemetry", "contract", "config", "store", "vault", "security", "cloudflare", "targets"], typesFrom: ["deploy"] },
  // Cloudflare Tunnel: tunnel + ingress through the client, cloudflared's files and process, bind policy.
  tunnel: { may: ["kit", "telemetry", "config", "cloudflare"] },
  // The deployment kit (cbo kit, GET /v1/kit): Dockerfile, Compose, PM2, systemd, setup script, README
  // from the spec (no secrets in, none out).
  packaging: { may: ["kit", "telemetry", "contract", "config"] },
  // Fleet logs: tail sessions through the target's Cloudflare client, the raw local copy, redaction
  // (the vault's values, read through the types it is handed) and shipping.
  "fleet-logs": { may: ["kit", "telemetry", "contract", "config", "cloudflare", "targets"], typesFrom: ["vault"] },
  // The metrics page's series: Cloudflare's analytics through the target port, the agents' counts handed in.
  "fleet-metrics": { may: ["kit", "telemetry", "contract", "config", "cloudflare", "targets"] },
  // HTTP only (routes, auth, errors, the event WebSocket, OpenAPI from the contract, the
  // dashboard's backend in api/dashboard/): it may import every layer below it.
  api: {
    may: [
      "kit",
      "telemetry",
      "contract",
      "config",
      "store",
      "audit",
      "vault",
      "security",
      "cloudflare",
      "targets",
      "deploy",
      "monitor",
      "sync",
      "setup",
      "tunnel",
      "packaging",
      "fleet-logs",
      "fleet-metrics",
    ],
  },
  // The MCP server for AI agents and the dashboard: the daemon's API through the one client only.
  mcp: { may: ["kit", "contract", "client"] },
  dashboard: { may: ["kit", "contract", "client"] },
  // The `cbo` command. Its shared helpers (flags, output, tables, formatting, following a release,
  // the daemon client set up for the CLI) reach the daemon through the client only.
  cli: { may: ["kit", "contract", "client"] },
  // The commands that talk to the daemon: through the one client only.
  "cli/commands": { may: ["kit", "contract", "client", "cli"] },
  // Tools on the data directory, with the daemon stopped (or asking it first): audit verify,
  // restore, backup, offline vault rotation, the kit from the spec file.
  "cli/offline": { may: "*" },
  // What starts things in-process: up, daemon, edge, init, mcp.
  "cli/launchers": { may: "*" },
  // The dispatcher: the only part of the CLI root that reaches the command groups (lazily).
  "cli/main.ts": { may: ["kit", "cli", "cli/commands", "cli/offline", "cli/launchers"] },
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
      const namedZ =
        bindings !== undefined && ts.isNamedImports(bindings) && bindings.elements.some((e) => (e.propertyName ?? e.name).text === "z");
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

/** The layer (key of RULES) owning a path relative to src/, POSIX separators. A key naming a file is its own layer. */
function layerOf(srcPath: string): string {
  const parts = srcPath.split("/");
  if (srcPath.endsWith(".ts") && Object.hasOwn(RULES, srcPath)) return srcPath;
  if (parts.length === 1) return ".";
  const candidates = Object.keys(RULES)
    .filter((k) => k !== "." && !k.endsWith(".ts") && srcPath.startsWith(`${k}/`))
    .sort((a, b) => b.length - a.length);
  return candidates[0] ?? parts[0]!;
}

const isTestFile = (srcPath: string) => /\.test\.ts$/.test(srcPath);

/** Checks one file. `srcPath` is relative to src/ with POSIX separators, e.g. `deploy/plan.ts`. */
function checkSource(srcPath: string, source: string): Violation[] {
  const layer = layerOf(srcPath);
  const rule = RULES[layer];
  const out: Violation[] = [];
  const report = (ref: ImportRef, why: string) => out.push({ file: `src/${srcPath}:${ref.line}`, specifier: ref.specifier, rule: why });
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
      report(ref, `${layer} may import only ${allowed.length ? allowed.join(", ") : "its own files"}, not ${targetLayer}`);
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

/**
 * The import circles of a graph (file -> files it imports, every kind of import: type-only ones
 * too, since a circle of types is still two files that cannot be read apart): its strongly
 * connected components of more than one file, or of one file importing itself. Tarjan's algorithm.
 */
function importCircles(graph: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const circles: string[][] = [];
  let next = 0;
  const connect = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    for (let w = stack.pop()!; ; w = stack.pop()!) {
      onStack.delete(w);
      component.push(w);
      if (w === v) break;
    }
    if (component.length > 1 || (graph.get(v) ?? []).includes(v)) circles.push(component.sort());
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) connect(v);
  return circles;
}

/** Every src/ file and the src/ files it imports (relative specifiers, resolved), POSIX paths relative to src/. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const f of listTs(srcDir)) {
    const srcPath = relative(srcDir, f).split(sep).join("/");
    const targets = findImports(srcPath, readFileSync(f, "utf8"))
      .filter((r) => r.specifier.startsWith("."))
      .map((r) => posix.normalize(posix.join(posix.dirname(srcPath), r.specifier)));
    graph.set(srcPath, [...new Set(targets)]);
  }
  return graph;
}

describe("architecture", () => {
  it("imports point one way (lower layers never import higher ones)", () => {
    const files = listTs(srcDir);
    expect(files.length).toBeGreaterThan(0);
    const violations = files.flatMap((f) => checkSource(relative(srcDir, f).split(sep).join("/"), readFileSync(f, "utf8")));
    expect(violations.map(format), "import rules broken (see RULES in test/architecture.test.ts)").toEqual([]);
  });

  it("has no import circle anywhere: not inside a folder (api/, cli/, …) nor across folders", () => {
    const graph = importGraph();
    expect(graph.size).toBeGreaterThan(100);
    const circles = importCircles(graph).map((c) => c.join(" -> "));
    expect(circles, "import circles (two files that import each other, directly or through others)").toEqual([]);
  });

  it("run-time code never imports the cloudflare SDK, and only the local edge imports Miniflare", () => {
    const offenders = listTs(srcDir).flatMap((f) => {
      const srcPath = relative(srcDir, f).split(sep).join("/");
      if (isTestFile(srcPath)) return [];
      return findImports(srcPath, readFileSync(f, "utf8"))
        .filter(
          (r) =>
            r.specifier === "cloudflare" ||
            r.specifier.startsWith("cloudflare/") ||
            (["miniflare", "workerd"].includes(packageOf(r.specifier)) && layerOf(srcPath) !== "local-edge"),
        )
        .map((r) => `src/${srcPath}:${r.line} imports ${r.specifier}`);
    });
    expect(offenders).toEqual([]);
  });

  it("the daemon (startDaemon, cbo daemon) loads neither the local edge nor the SDK; cbo up and cbo edge load the edge only when run", () => {
    for (const root of [
      "daemon.ts",
      "cli/launchers/daemon-command.ts",
      "cli/main.ts",
      "cli/launchers/up-command.ts",
      "cli/launchers/edge-command.ts",
      "cli/launchers/init-command.ts",
    ]) {
      const { files, packages } = staticClosure(root);
      expect(
        [...files].filter((f) => f.startsWith("local-edge/")),
        root,
      ).toEqual([]);
      expect(
        [...packages].filter((p) => ["miniflare", "workerd", "cloudflare", "esbuild"].includes(p)),
        root,
      ).toEqual([]);
    }
  });

  it("kit/, edge/ (bundled into Workers), contract/ and client/ (bundled into the dashboard) import zod as a namespace, which lets the bundler drop what is unused", () => {
    // `import { z } from "zod"` keeps all of zod's locales in a bundle (colinhacks/zod#6597).
    const named = listTs(srcDir).flatMap((f) => {
      const srcPath = relative(srcDir, f).split(sep).join("/");
      if (!["kit", "edge", "contract", "client"].includes(layerOf(srcPath))) return [];
      return findImports(srcPath, readFileSync(f, "utf8"))
        .filter((r) => r.namedZ && packageOf(r.specifier) === "zod")
        .map((r) => `src/${srcPath}:${r.line}`);
    });
    expect(named).toEqual([]);
    expect(
      findImports("kit/x.ts", `import { z } from "zod";\nimport * as y from "zod";\nimport { z as zz } from "zod/mini";`).map(
        (r) => r.namedZ,
      ),
    ).toEqual([true, false, true]);
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
    expect(checkSource("local-edge/workers/router.worker.ts", workers).map((v) => v.specifier)).toEqual(["../index.ts"]);
    expect(checkSource("local-edge/server.ts", `import { c } from "../cloudflare/client.ts";`)).toHaveLength(1);
    expect(checkSource("edge/agent.ts", `import { c } from "node:crypto";`)).toHaveLength(1);
    expect(checkSource("config/load.ts", `import { p } from "../../test/support/x.ts";`)).toHaveLength(1);
    expect(checkSource("nowhere/x.ts", `import { k } from "../kit/ids.ts";`)[0]?.rule).toMatch(/has no rule/);

    // typesFrom: an erased import of deploy's types is allowed to setup, a value import is not.
    const setup = `import type { Engine } from "../deploy/types.ts";\nimport { createEngine } from "../deploy/engine.ts";\nexport type T = import("../deploy/types.ts").Engine;`;
    expect(checkSource("setup/first-release.ts", setup).map((v) => v.specifier)).toEqual(["../deploy/engine.ts"]);
    // The dashboard talks to the daemon through the one client and reads the contract; not even the API's types.
    const dashboard = `import type { Status } from "../contract/index.ts";\nimport { createDaemonClient } from "../client/index.ts";\nimport type { Api } from "../api/types.ts";\nimport { app } from "../api/app.ts";`;
    expect(checkSource("dashboard/app.ts", dashboard).map((v) => v.specifier)).toEqual(["../api/types.ts", "../api/app.ts"]);

    expect(checkSource("deploy/apply.ts", `import { c } from "../cloudflare/client.ts";\nimport { z } from "zod";`)).toEqual([]);
    expect(checkSource("cli/launchers/up.ts", `const e = await import("../../local-edge/index.ts");`)).toEqual([]);
    expect(checkSource("daemon.ts", `import { createApi } from "./api/app.ts";`)).toEqual([]);

    // The circle finder: a three-file circle, a file importing itself, and a chain that is no circle.
    const graph = new Map([
      ["api/types.ts", ["security/open.ts"]],
      ["security/open.ts", ["security/trail.ts", "kit/errors.ts"]],
      ["security/trail.ts", ["api/types.ts"]],
      ["kit/errors.ts", []],
      ["cli/main.ts", ["cli/main.ts", "cli/args.ts"]],
      ["cli/args.ts", ["kit/errors.ts"]],
    ]);
    expect(importCircles(graph)).toEqual([["api/types.ts", "security/open.ts", "security/trail.ts"], ["cli/main.ts"]]);
    expect(
      importCircles(
        new Map([
          ["a.ts", ["b.ts"]],
          ["b.ts", ["c.ts"]],
          ["c.ts", []],
        ]),
      ),
    ).toEqual([]);
  });
});
