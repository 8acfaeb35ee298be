// Starts a version's code once, as Cloudflare does when it accepts an upload: a Worker that throws
// while its modules evaluate, or exports something that is neither a handler nor a class, is
// refused (10021) rather than deployed to answer 1101s. The code loads without bindings but its
// text and JSON vars (global scope may read those; any I/O there fails on Cloudflare too), and
// never serves a request: it is asked for an entrypoint no Worker has, which workerd can only
// answer once the Worker has started.

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
export type ProbeOutcome = { ok: true } | { ok: false; error: string };

type Loader = {
  get(id: string, load: () => Promise<unknown>): { getEntrypoint(name?: string): { fetch(r: Request): Promise<Response> } };
};

const NO_SUCH_ENTRYPOINT = "__cboStartupProbe";
const FAILED_TO_START = /^Failed to start Worker:\s*/;

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
  const stub = loader.get(`probe:${spec.key}`, async () => ({
    compatibilityDate: spec.compatibilityDate,
    compatibilityFlags,
    mainModule: spec.mainModule,
    modules: loaderModules(spec.modules),
    env: spec.vars,
    globalOutbound: null,
  }));
  try {
    await stub.getEntrypoint(NO_SUCH_ENTRYPOINT).fetch(new Request("http://probe/"));
    return { ok: true };
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    return FAILED_TO_START.test(message) ? { ok: false, error: message.replace(FAILED_TO_START, "") } : { ok: true };
  }
}
