// Raw Cloudflare API v4 calls against the local edge, with the upload form built exactly as
// wrangler builds it (string `metadata` field, one part per module named by its filename).
import type { LocalEdge } from "../../src/local-edge/types.ts";

export type Envelope<T = unknown> = {
  success: boolean;
  errors: { code: number; message: string }[];
  messages: unknown[];
  result: T;
  result_info?: Record<string, unknown>;
};

export type ApiResult<T = unknown> = { status: number; contentType: string; text: string; json: Envelope<T> | undefined };

export async function api<T = unknown>(
  edge: Pick<LocalEdge, "apiUrl" | "token">,
  method: string,
  path: string,
  opts: { body?: RequestInit["body"]; json?: unknown; headers?: Record<string, string>; token?: string | null; timeoutMs?: number } = {},
): Promise<ApiResult<T>> {
  const headers: Record<string, string> = { ...opts.headers };
  const token = opts.token === undefined ? edge.token : opts.token;
  if (token !== null) headers["authorization"] = `Bearer ${token}`;
  let body = opts.body;
  if (opts.json !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(opts.json);
  }
  const res = await fetch(edge.apiUrl + path, { method, headers, body, signal: AbortSignal.timeout(opts.timeoutMs ?? 15_000) });
  const text = await res.text();
  let json: Envelope<T> | undefined;
  try {
    json = JSON.parse(text) as Envelope<T>;
  } catch {
    json = undefined;
  }
  return { status: res.status, contentType: res.headers.get("content-type") ?? "", text, json };
}

/** Like `api` but throws (with the whole answer) unless the envelope says success. */
export async function apiOk<T = unknown>(...args: Parameters<typeof api>): Promise<T> {
  const r = await api<T>(...args);
  if (r.status !== 200 || !r.json?.success) {
    throw new Error(`${args[1]} ${args[2]} -> ${r.status} ${r.contentType}: ${r.text.slice(0, 1000)}`);
  }
  return r.json.result;
}

export type UploadOptions = {
  code: string;
  mainModule?: string;
  bindings?: Record<string, unknown>[];
  compatibilityDate?: string;
  annotations?: Record<string, string>;
  keepBindings?: string[];
  /** Extra module parts, by filename. */
  modules?: Record<string, string>;
};

export function uploadForm(opts: UploadOptions): FormData {
  const main = opts.mainModule ?? "index.js";
  const form = new FormData();
  form.set(
    "metadata",
    JSON.stringify({
      main_module: main,
      compatibility_date: opts.compatibilityDate ?? "2025-01-01",
      compatibility_flags: [],
      bindings: opts.bindings ?? [],
      keep_bindings: opts.keepBindings ?? ["secret_text", "secret_key"],
      ...(opts.annotations ? { annotations: opts.annotations } : {}),
    }),
  );
  const modules = { "index.js": opts.code, ...opts.modules };
  for (const [name, source] of Object.entries(modules)) {
    form.set(name, new Blob([source], { type: "application/javascript+module" }), name);
  }
  return form;
}

const scriptPath = (acct: string, script: string) => `/accounts/${acct}/workers/scripts/${encodeURIComponent(script)}`;

/** First upload of a Worker (PUT script): creates it and deploys the version at 100%. Returns the version id. */
export async function putScript(edge: LocalEdge, acct: string, script: string, opts: UploadOptions): Promise<string> {
  const r = await apiOk<{ deployment_id: string }>(edge, "PUT", `${scriptPath(acct, script)}?bindings_inherit=strict`, {
    body: uploadForm(opts),
  });
  return r.deployment_id;
}

/** Uploads a version without deploying it. Returns its id. */
export async function uploadVersion(edge: LocalEdge, acct: string, script: string, opts: UploadOptions): Promise<string> {
  const r = await apiOk<{ id: string }>(edge, "POST", `${scriptPath(acct, script)}/versions?bindings_inherit=strict`, {
    body: uploadForm(opts),
  });
  return r.id;
}

export type DeploymentVersion = { version_id: string; percentage: number };

export async function deployVersions(
  edge: LocalEdge,
  acct: string,
  script: string,
  versions: DeploymentVersion[],
): Promise<{ id: string; versions: DeploymentVersion[] }> {
  return apiOk(edge, "POST", `${scriptPath(acct, script)}/deployments`, {
    json: { strategy: "percentage", versions, annotations: {} },
  });
}

/** Creates a Worker if needed, uploads `opts` as a new version and deploys it at 100%. */
export async function uploadAndDeploy(edge: LocalEdge, acct: string, script: string, opts: UploadOptions): Promise<string> {
  const id = await uploadVersion(edge, acct, script, opts);
  await deployVersions(edge, acct, script, [{ version_id: id, percentage: 100 }]);
  return id;
}

export async function createKvNamespace(edge: LocalEdge, acct: string, title: string): Promise<string> {
  const r = await apiOk<{ id: string }>(edge, "POST", `/accounts/${acct}/storage/kv/namespaces`, { json: { title } });
  return r.id;
}

export async function putKv(edge: LocalEdge, acct: string, ns: string, key: string, value: string): Promise<void> {
  await apiOk(edge, "PUT", `/accounts/${acct}/storage/kv/namespaces/${ns}/values/${encodeURIComponent(key)}`, {
    body: value,
    headers: { "content-type": "text/plain;charset=UTF-8" },
  });
}
