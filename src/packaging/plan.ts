// Which files a kit holds, with their modes: pure, from the facts, the product files and the
// spec's text. Nothing here reads the environment, the vault or the data directory, which is what
// keeps secrets out of a kit by construction (the planted-secret test checks it end to end).
import type { KitFacts } from "./facts.ts";
import { usesLocalEdge } from "./facts.ts";
import { kitPackageJson } from "./package-json.ts";
import type { Product } from "./product.ts";
import type { WorkerSources } from "./sources.ts";
import type { TarEntry } from "./tar.ts";
import { renderCompose } from "./render-compose.ts";
import { renderDockerfile, renderDockerignore } from "./render-dockerfile.ts";
import { renderEcosystem } from "./render-ecosystem.ts";
import { renderEnvExample } from "./render-env.ts";
import { renderReadme } from "./render-readme.ts";
import { renderSetup } from "./render-setup.ts";
import { DAEMON_UNIT, EDGE_UNIT, renderDaemonUnit, renderEdgeUnit } from "./render-systemd.ts";

const text = (path: string, content: string, mode = 0o644): TarEntry => ({ path, data: new TextEncoder().encode(content), mode });

/** The kit's own files (without the product), by path. */
export function deploymentFiles(
  f: KitFacts,
  o: { setupTemplate: string; specText: string; generatedAt: string; productPaths: string[]; leftOut?: string[] },
): TarEntry[] {
  const files = [
    text("Dockerfile", renderDockerfile(f)),
    text(".dockerignore", renderDockerignore()),
    text("compose.yaml", renderCompose(f)),
    text("ecosystem.config.cjs", renderEcosystem(f)),
    text(`systemd/${DAEMON_UNIT}`, renderDaemonUnit(f)),
    ...(usesLocalEdge(f) ? [text(`systemd/${EDGE_UNIT}`, renderEdgeUnit(f))] : []),
    text("setup-vps.sh", renderSetup(f, o.setupTemplate), 0o755),
    text(".env.example", renderEnvExample(f)),
    text("config/orchestrator.yaml", o.specText),
  ];
  const readme = renderReadme(f, {
    generatedAt: o.generatedAt,
    files: [...o.productPaths, ...files.map((x) => x.path)],
    leftOut: o.leftOut ?? [],
  });
  return [text("README.md", readme), ...files];
}

/**
 * Every file of the kit: the deployment files, the Worker sources under config/ (sources.ts), then
 * the product's (the kit's README replaces the product's; its package.json is tailored, see
 * package-json.ts).
 */
export function kitEntries(
  f: KitFacts,
  product: Product,
  sources: WorkerSources,
  o: { setupTemplate: string; specText: string; generatedAt: string },
): TarEntry[] {
  const own = deploymentFiles(f, { ...o, productPaths: [...sources.files, ...product.files].map((p) => p.path), leftOut: sources.leftOut });
  const taken = new Set(own.map((e) => e.path));
  const tailor = (p: TarEntry): TarEntry =>
    p.path === "package.json" ? text(p.path, kitPackageJson(new TextDecoder().decode(p.data), { localEdge: usesLocalEdge(f) }), p.mode) : p;
  return [...own, ...sources.files.filter((p) => !taken.has(p.path)), ...product.files.filter((p) => !taken.has(p.path)).map(tailor)];
}
