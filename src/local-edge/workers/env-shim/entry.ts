// The generated main module of a Worker version with shimmed bindings (see shim.ts). It imports
// the user's real main module and re-exports each of its exports, wrapped, under the same name.
// ES modules need their export names statically, so the router asks the edge for them
// (runtime/module-exports.ts) before generating this.
import type { ShimSpec } from "./shim.ts";

export const SHIM_MODULE = "__cbo_shim.js";
export const ENTRY_MODULE = "__cbo_entry.js";

export function entrySource(mainModule: string, exportNames: string[], shims: Record<string, ShimSpec>): string {
  const lines = [
    `import * as user from ${JSON.stringify("./" + mainModule)};`,
    `import { wrapModule } from ${JSON.stringify("./" + SHIM_MODULE)};`,
    `const wrapped = wrapModule(user, ${JSON.stringify(shims)});`,
  ];
  exportNames.forEach((name, i) => {
    lines.push(`const e${i} = wrapped[${JSON.stringify(name)}];`);
    lines.push(`export { e${i} as ${name === "default" ? "default" : JSON.stringify(name)} };`);
  });
  return lines.join("\n") + "\n";
}
