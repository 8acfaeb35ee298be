// The orchestrator.yaml and the example Worker `cbo init` writes into a new project. Pure text:
// files.ts writes it, and only where nothing exists yet.

export const EXAMPLE_WORKER = "hello";
export const EXAMPLE_WORKER_FILE = "workers/hello/index.js";

export type TargetChoice =
  | { kind: "local"; regions: string[] }
  | { kind: "cloudflare"; apiUrl: string; accounts: Array<{ name: string; accountId: string }> };

export function specYaml(targets: TargetChoice, now = new Date()): string {
  const lines =
    targets.kind === "local"
      ? targets.regions.map((r) => `  - { name: ${r}, api: local, jurisdiction: ${r} }`)
      : targets.accounts.map((a) => `  - { name: ${a.name}, api: ${targets.apiUrl}, account_id: ${a.accountId} }`);
  return `# The desired state of this fleet, written by \`cbo init\` on ${now.toISOString().slice(0, 10)}.
# Every key is validated strictly: a misspelt key fails with its path. See the README's
# "orchestrator.yaml" section for every option.
version: 1
targets:           # one (region, Cloudflare account) pair each
${lines.join("\n")}
rollout:           # canary target first, then the rest; each target 10% -> 50% -> 100%, gated
  steps: [10, 50, 100]
  gate: { probe_path: /health, interval_ms: 100, timeout_ms: 1000, failure_limit: 3, max_error_rate: 0.05, bake_ms: 1000, min_samples: 5 }
workers:
  # The example Worker: replace it with yours (an ES module entry, or \`wrangler: path/to/wrangler.toml\`).
  - name: ${EXAMPLE_WORKER}
    main: ${EXAMPLE_WORKER_FILE}
    compatibility_date: "2025-01-01"
    vars: { GREETING: Hello from Clawdbot Orchestrator }
    version_metadata: VERSION
`;
}

export const EXAMPLE_WORKER_SOURCE = `// The example Worker \`cbo init\` released. /health answers the release gates' probes.
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/health") return new Response("ok");
    return Response.json({ message: env.GREETING, worker: "${EXAMPLE_WORKER}", version: env.VERSION?.id ?? null });
  },
};
`;
