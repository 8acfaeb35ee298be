// Pokes a Worker's agent to re-read its config now. node:http, as the gate's probes: undici's fetch
// drops the Host header the local edge routes on. Never throws: the answer is a short status for
// config_targets.poke ("ok", "http 401", "error: ..."), and polling covers a poke that failed.
import http from "node:http";
import https from "node:https";
import { AGENT_POKE_PATH } from "../kit/protocol/bindings.ts";
import { createPokeRequest } from "../kit/protocol/poke.ts";
import type { Endpoint } from "../deploy/types.ts";

export async function sendPoke(endpoint: Endpoint, poke: { worker: string; target: string; configVersion: number }, keys: Uint8Array[], timeoutMs = 2_000): Promise<string> {
  if (keys.length === 0) return "skipped: the Worker has no key yet";
  const req = await createPokeRequest(poke, keys);
  const url = new URL(AGENT_POKE_PATH, endpoint.url);
  const lib = url.protocol === "https:" ? https : http;
  return new Promise((resolve) => {
    const headers: Record<string, string> = { ...req.headers, "content-length": String(Buffer.byteLength(req.body)) };
    if (endpoint.host) headers.host = endpoint.host;
    const r = lib.request(url, { method: "POST", headers, timeout: timeoutMs, agent: false }, (res) => {
      res.resume();
      // The agent answers 202 (refresh scheduled); any other answer is not an agent taking the poke.
      res.on("end", () => resolve(res.statusCode === 202 ? "ok" : `http ${res.statusCode}`));
      res.on("error", (e) => resolve(`error: ${e.message}`));
    });
    r.on("timeout", () => r.destroy(new Error(`no answer in ${timeoutMs} ms`)));
    r.on("error", (e) => resolve(`error: ${e.message}`));
    r.end(req.body);
  });
}
