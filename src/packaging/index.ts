// The deployment kit: a .tar.gz tailored to the spec and the operator's choices (facts.ts), holding
// the deployment files (plan.ts), the Worker projects the spec names (sources.ts) and the product
// itself (product.ts). Used by `cbo kit` and
// GET /v1/kit; both hand in the spec, never the environment, the vault or the data directory.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import type { ResolvedSpec } from "../config/load.ts";
import { CboError } from "../kit/errors.ts";
import { kitFacts, type KitFacts, type KitOptions } from "./facts.ts";
import { kitEntries } from "./plan.ts";
import { kitFileName, readProduct } from "./product.ts";
import { readWorkerSources } from "./sources.ts";
import { readSetupTemplate } from "./render-setup.ts";
import { byCodeUnits, tarGz } from "./tar.ts";

export { KitOptionsSchema, KitOverridesSchema, type KitOptions, type KitFacts } from "./facts.ts";
export { kitFileName, PRODUCT_ROOT, productInfo } from "./product.ts";

export type Kit = {
  /** Suggested file name, e.g. clawdbot-orchestrator-kit-0.1.0.tar.gz. */
  fileName: string;
  /** The directory every file is under inside the archive. */
  root: string;
  bytes: Uint8Array;
  sha256: string;
  files: Array<{ path: string; bytes: number; mode: number }>;
  facts: KitFacts;
};

export function buildKit(req: {
  spec: ResolvedSpec;
  options?: KitOptions;
  now?: number;
  productRoot?: string;
  /** Never carried, even inside a Worker's project: the data directory, key files, the edge's state. */
  protect?: string[];
}): Kit {
  const product = readProduct(req.productRoot);
  const sources = readWorkerSources(req.spec, { protect: req.protect ?? [] });
  const facts = kitFacts(req.spec, { name: product.name, version: product.version }, req.options);
  let specText: string;
  try {
    specText = readFileSync(req.spec.file, "utf8");
  } catch (e) {
    throw new CboError("ERR_IO", `Cannot read ${req.spec.file} for the kit.`, { cause: e });
  }
  const now = req.now ?? Date.now();
  const entries = kitEntries(facts, product, sources, {
    setupTemplate: readSetupTemplate(),
    specText,
    generatedAt: new Date(now).toISOString().slice(0, 10),
  });
  const root = `${product.name}-kit`;
  const bytes = tarGz(root, entries, now);
  return {
    fileName: kitFileName(product),
    root,
    bytes,
    sha256: createHash("sha256").update(bytes).digest("hex"),
    files: entries.map((e) => ({ path: e.path, bytes: e.data.length, mode: e.mode })).sort((a, b) => byCodeUnits(a.path, b.path)),
    facts,
  };
}
