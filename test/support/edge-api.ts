// Raw Cloudflare API calls to the local edge, for what our own client does not send (migrations,
// assets, routes): the v4 envelope comes back parsed, failures included, so tests can assert codes.
import type { LocalEdge, RegionInfo } from "../../src/local-edge/types.ts";

export type Envelope<T = unknown> = {
  success: boolean;
  errors: Array<{ code: number; message: string }>;
  result: T;
  result_info?: Record<string, unknown>;
};

export type EdgeApi = {
  call<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<Envelope<T> & { status: number }>;
  /** Same, but throws unless the call succeeded; answers `result`. */
  ok<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
  /** A Worker upload form: metadata plus ES modules (and text modules by `.txt`). */
  upload(metadata: Record<string, unknown>, modules?: Record<string, string>): FormData;
};

export function edgeApi(edge: LocalEdge, region: RegionInfo): EdgeApi {
  const call = async <T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const url = path.startsWith("/zones") ? `${edge.apiUrl}${path}` : `${edge.apiUrl}/accounts/${region.accountId}${path}`;
    const isForm = body instanceof FormData;
    const res = await fetch(url, {
      method,
      headers: {
        authorization: `Bearer ${edge.token}`,
        ...(body !== undefined && !isForm ? { "content-type": "application/json" } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : isForm ? body : JSON.stringify(body),
    });
    const text = await res.text();
    try {
      return { ...(JSON.parse(text) as Envelope<T>), status: res.status };
    } catch {
      throw new Error(`${method} ${path} -> ${res.status}, not JSON: ${text.slice(0, 500)}`);
    }
  };
  return {
    call,
    async ok<T>(method: string, path: string, body?: unknown) {
      const r = await call<T>(method, path, body);
      if (!r.success) throw new Error(`${method} ${path} -> ${r.status}: ${JSON.stringify(r.errors)}`);
      return r.result;
    },
    upload(metadata, modules = {}) {
      const f = new FormData();
      f.set("metadata", JSON.stringify(metadata));
      for (const [name, content] of Object.entries(modules)) {
        const type = name.endsWith(".txt") ? "text/plain" : "application/javascript+module";
        f.set(name, new File([content], name, { type }));
      }
      return f;
    },
  };
}
