// autocannon ships no types; this declares the part bench/load-child.ts uses.
declare module "autocannon" {
  type Options = {
    url: string;
    connections?: number;
    duration?: number;
    headers?: Record<string, string>;
    expectBody?: string;
    warmup?: { connections?: number; duration?: number };
    /** Each connection loops over these; setupRequest may rewrite each request before it is sent. */
    requests?: Array<{
      method?: string;
      path?: string;
      setupRequest?: (req: { body?: string; headers?: Record<string, string> }) => unknown;
    }>;
  };
  type Histogram = { average: number; mean: number; p50: number; p99: number; total: number };
  type Result = {
    duration: number;
    errors: number;
    timeouts: number;
    mismatches: number;
    non2xx: number;
    "2xx": number;
    latency: Histogram;
    requests: Histogram;
  };
  function autocannon(opts: Options): Promise<Result>;
  export default autocannon;
}
