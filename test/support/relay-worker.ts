// The source of a test Worker that fetches relay secrets the way the edge agent does, through
// src/kit/relay.ts (bundled into it), and never answers a value: GET /relay?secret=NAME answers
// {version, hash (SHA-256 hex), ttlMs}, or 502 {status, code} with the relay's refusal. Every
// other path answers `root`, a JS expression over `env` and the helper `sha` (awaited inside).
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const KIT = fileURLToPath(new URL("../../src/kit/", import.meta.url));

export function relayWorkerSource(root: string): string {
  return `
import { createRelayRequest, openRelayResponse } from ${JSON.stringify(join(KIT, "relay.ts"))};
import { base64urlToBytes } from ${JSON.stringify(join(KIT, "signing/index.ts"))};
const sha = async (v) => v === undefined ? null : [...new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(v)))].map((b) => b.toString(16).padStart(2, "0")).join("");
export default {
  async fetch(req, env) {
    const url = new URL(req.url);
    if (url.pathname === "/relay") {
      const secret = url.searchParams.get("secret");
      const key = base64urlToBytes(env.CBO_WORKER_KEY);
      const who = { worker: env.CBO_WORKER, target: env.CBO_TARGET, secret };
      const version = (env.CBO_SECRET_VERSIONS ?? {})[secret];
      const r = await createRelayRequest({ ...who, ...(version ? { version } : {}) }, key);
      const res = await fetch(env.CBO_ORCHESTRATOR_URL + "/v1/relay", { method: "POST", headers: r.headers, body: r.body });
      if (!res.ok) return Response.json({ status: res.status, code: (await res.json()).error.code }, { status: 502 });
      const open = await openRelayResponse(await res.json(), who, key);
      return Response.json({ version: open.version, hash: await sha(open.value), ttlMs: open.expiresAt - Date.now() });
    }
    return Response.json(${root});
  },
};
`;
}
