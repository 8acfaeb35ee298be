// Which optional parts the daemon has, read from its OpenAPI document: the pages for them are
// shown only when their routes exist (a daemon without the tunnel, setup or kit routes still gets
// a working dashboard).
export type Features = {
  /** GET /v1/tunnel/status */
  tunnel: boolean;
  /** GET /v1/setup and POST /v1/setup/{step} */
  setup: boolean;
  /** GET /v1/kit (the deployment kit's tarball) */
  kit: boolean;
  /** GET /v1/metrics/series (the metrics page) */
  metrics: boolean;
  /** GET /v1/logs/stream (the live log view) */
  logs: boolean;
};

type OpenApi = { paths?: Record<string, Record<string, unknown> | undefined> };

export function featuresOf(doc: unknown): Features {
  const paths = (doc as OpenApi | null)?.paths ?? {};
  const has = (path: string, method: string) => typeof paths[path]?.[method] === "object";
  return {
    tunnel: has("/v1/tunnel/status", "get"),
    setup: has("/v1/setup", "get") && Object.keys(paths).some((p) => /^\/v1\/setup\/\{[^}]+\}$/.test(p) && has(p, "post")),
    kit: has("/v1/kit", "get"),
    metrics: has("/v1/metrics/series", "get"),
    logs: has("/v1/logs/stream", "get"),
  };
}

export const NO_FEATURES: Features = { tunnel: false, setup: false, kit: false, metrics: false, logs: false };
