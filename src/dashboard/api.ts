// The dashboard's calls to the daemon: same origin, the session cookie sent by the browser, the
// session's CSRF token on every mutation. An answer of 401 means the session has ended: the page
// goes back to the login form.
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export type Api = {
  get<T>(path: string): Promise<T>;
  post<T>(path: string, body?: unknown): Promise<T>;
};

type ErrorBody = { error?: { code?: string; message?: string } };

export function createApi(opts: { csrf: () => string; onUnauthorized: () => void }): Api {
  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { accept: "application/json" };
    if (method !== "GET") {
      headers["x-csrf-token"] = opts.csrf();
      if (body !== undefined) headers["content-type"] = "application/json";
    }
    const res = await fetch(path, { method, headers, credentials: "same-origin", ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!res.ok) {
      const err = (parsed as ErrorBody | undefined)?.error;
      if (res.status === 401) opts.onUnauthorized();
      throw new ApiError(res.status, err?.code ?? `HTTP_${res.status}`, `${err?.code ?? `HTTP ${res.status}`}: ${err?.message ?? res.statusText}`);
    }
    return parsed as T;
  }
  return {
    get: (path) => call("GET", path),
    post: (path, body) => call("POST", path, body),
  };
}

/** `?a=1&b=x` from the fields that have a value. */
export function query(params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && String(v).trim() !== "") q.set(k, String(v).trim());
  const s = q.toString();
  return s ? `?${s}` : "";
}

export const enc = encodeURIComponent;
