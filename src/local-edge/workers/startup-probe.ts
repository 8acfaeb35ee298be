// Starts a version's code once, as Cloudflare does when it accepts an upload: a Worker that throws
// while its modules evaluate, or exports something that is neither a handler nor a class, is
// refused (10021) rather than deployed to answer 1101s. The code loads without bindings but its
// text and JSON vars (global scope may read those; any I/O there fails on Cloudflare too), and
// never serves a request: a probe entrypoint beside it (probeMain) reports the handlers it has,
// which workerd can only answer once the Worker has started.

export type ProbeModule = { name: string; type: string; text?: string; base64?: string };
export type ProbeSpec = {
  /** A digest of everything below: the same code probed again reuses its isolate rather than adding one. */
  key: string;
  compatibilityDate: string;
  compatibilityFlags: string[];
  mainModule: string;
  modules: ProbeModule[];
  vars: Record<string, unknown>;
};
/** `handlers`: what the default export implements, as Cloudflare lists a version's handlers. */
export type ProbeOutcome = { ok: true; handlers?: string[] } | { ok: false; error: string };

type Loader = {
  get(id: string, load: () => Promise<unknown>): { getEntrypoint(name?: string): unknown };
};

const INTROSPECT = "__CboStartupProbe";
const FAILED_TO_START = /^Failed to start Worker:\s*/;
/**
 * workerd's refusals of a version's compatibility settings (an unknown or contradictory flag, a
 * date past what the runtime knows): Cloudflare refuses such an upload, so the probe does too.
 */
const BAD_COMPATIBILITY =
  /^(No such compatibility flag|Compatibility flag specified multiple times|Compatibility flags are mutually contradictory|This Worker requires compatibility date|Invalid compatibility date)/;
/** The handlers a default export can implement that Cloudflare lists (alphabetical, as listed). */
const HANDLERS = ["alarm", "email", "fetch", "queue", "scheduled", "tail", "tailStream", "test", "trace"];

/**
 * The probe's main module: it imports the Worker's main module and re-exports its named exports
 * (so its evaluation and those exports are checked as workerd checks any Worker's; the default
 * is left out, as a Worker without one, say one of only Durable Objects, is valid) and adds one
 * entrypoint that reports which handlers the default export implements (an object's methods, or a
 * class's).
 */
function probeMain(mainModule: string): { name: string; js: string } {
  const slash = mainModule.lastIndexOf("/");
  const dir = mainModule.slice(0, slash + 1);
  const target = `./${mainModule.slice(slash + 1)}`;
  return {
    name: `${dir}__cbo_startup_probe.js`,
    js: `import { WorkerEntrypoint } from "cloudflare:workers";
import * as main from ${JSON.stringify(target)};
export * from ${JSON.stringify(target)};
export class ${INTROSPECT} extends WorkerEntrypoint {
  handlers() {
    const d = main.default;
    const on = typeof d === "function" ? d.prototype : d;
    return on ? ${JSON.stringify(HANDLERS)}.filter((k) => typeof on[k] === "function") : [];
  }
}
`,
  };
}

function fromBase64(b64: string): ArrayBuffer {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out.buffer;
}

/** The Worker Loader's module map for a version's modules (source maps are left out by the caller). */
export function loaderModules(modules: ProbeModule[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const m of modules) {
    if (m.type === "esm") out[m.name] = { js: m.text };
    else if (m.type === "cjs") out[m.name] = { cjs: m.text };
    else if (m.type === "text") out[m.name] = { text: m.text };
    else if (m.type === "json") out[m.name] = { json: JSON.parse(m.text ?? "null") };
    else if (m.type === "data") out[m.name] = { data: fromBase64(m.base64 ?? "") };
    else if (m.type === "wasm") out[m.name] = { wasm: fromBase64(m.base64 ?? "") };
  }
  return out;
}

export async function probeStartup(loader: Loader, spec: ProbeSpec, compatibilityFlags: string[]): Promise<ProbeOutcome> {
  const main = probeMain(spec.mainModule);
  const stub = loader.get(`probe:${spec.key}`, async () => ({
    compatibilityDate: spec.compatibilityDate,
    compatibilityFlags,
    mainModule: main.name,
    modules: { ...loaderModules(spec.modules), [main.name]: { js: main.js } },
    env: spec.vars,
    globalOutbound: null,
  }));
  try {
    const introspect = stub.getEntrypoint(INTROSPECT) as { handlers(): Promise<string[]> };
    return { ok: true, handlers: await introspect.handlers() };
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    if (BAD_COMPATIBILITY.test(message)) return { ok: false, error: message };
    // Anything else (say, a default export the re-export cannot carry) is no startup failure.
    return FAILED_TO_START.test(message) ? { ok: false, error: message.replace(FAILED_TO_START, "") } : { ok: true };
  }
}
