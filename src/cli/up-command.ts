// `cbo up` (what `npm start` runs): the local edge with its regions and the example Worker
// deployed to each through our Cloudflare client, exactly as it would go to Cloudflare.
// (The orchestrator daemon joins this command in the next milestone.)
import { fileURLToPath } from "node:url";
import { join, resolve } from "node:path";
import { build } from "esbuild";
import { CboError } from "../kit/errors.ts";
import { startLocalEdge, type LocalEdge } from "../local-edge/index.ts";
import { createCloudflareClient } from "../cloudflare/index.ts";
import { intFlag, parse } from "./args.ts";
import { DEFAULT_EDGE_DATA, DEFAULT_EDGE_PORT, regionsFlag } from "./edge-command.ts";
import { printJsonLine, untilSignal } from "./output.ts";

const USAGE = "usage: cbo up [--port N] [--data DIR] [--regions eu,us,ap] [--json]";
const EXAMPLE_ENTRY = fileURLToPath(new URL("../../examples/hello/src/index.js", import.meta.url));

async function bundleExample(): Promise<string> {
  const out = await build({ entryPoints: [EXAMPLE_ENTRY], bundle: true, format: "esm", platform: "neutral", write: false, logLevel: "silent" });
  return out.outputFiles[0]!.text;
}

export async function deployExample(edge: LocalEdge): Promise<Array<{ region: string; url: string; versionId: string }>> {
  const code = await bundleExample();
  const client = createCloudflareClient({ baseUrl: edge.apiUrl, apiToken: edge.token });
  return Promise.all(
    edge.regions.map(async (r) => {
      const cf = client.forAccount(r.accountId);
      const ns = (await cf.listKvNamespaces()).find((n) => n.title === "hello-kv") ?? (await cf.createKvNamespace("hello-kv"));
      await cf.putKvValue(ns.id, "motd", `Served from the local edge's ${r.name} region`);
      const result = await cf.deploy("hello", {
        mainModule: "index.js",
        modules: [{ name: "index.js", content: code, type: "esm" }],
        compatibilityDate: "2025-01-01",
        bindings: [
          { type: "plain_text", name: "GREETING", text: "Hello" },
          { type: "plain_text", name: "REGION", text: r.name },
          { type: "kv_namespace", name: "HELLO_KV", namespace_id: ns.id },
          { type: "version_metadata", name: "VERSION" },
        ],
        annotations: { "workers/message": "cbo up: example fleet" },
      });
      return { region: r.name, url: `http://hello.localhost:${r.port}/`, versionId: result.versionId };
    }),
  );
}

export async function upCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { port: { type: "string" }, data: { type: "string" }, regions: { type: "string" } }, USAGE);
  if (values.help) {
    process.stdout.write(USAGE + "\n");
    return 0;
  }
  if (positionals.length > 0) throw new CboError("ERR_USAGE", `Unknown argument "${positionals[0]}".`, { hint: USAGE });
  const port = intFlag(values.port, "port", 1, 65_000) ?? DEFAULT_EDGE_PORT;
  const dataDir = resolve(values.data ?? DEFAULT_EDGE_DATA);
  const regions = regionsFlag(values.regions);
  const edge = await startLocalEdge({ port, dataDir, ...(regions ? { regions } : {}) });
  try {
    const workers = await deployExample(edge);
    if (values.json) {
      printJsonLine({ apiUrl: edge.apiUrl, tokenFile: join(dataDir, "token"), regions: edge.regions, workers });
    } else {
      const lines = [
        "Clawdbot Orchestrator: local edge running",
        `  Cloudflare API  ${edge.apiUrl}   (token in ${join(dataDir, "token")})`,
        ...edge.regions.map((r) => `  region ${r.name.padEnd(4)} account ${r.accountId}   http://<worker>.localhost:${r.port}/`),
        "Example Worker `hello` deployed:",
        ...workers.map((w) => `  ${w.region.padEnd(4)} ${w.url}   version ${w.versionId}`),
        "Try: curl http://hello.localhost:" + edge.regions[0]!.port + "/   (Ctrl-C stops)",
      ];
      process.stdout.write(lines.join("\n") + "\n");
    }
  } catch (e) {
    await edge.close();
    throw e;
  }
  await untilSignal();
  await edge.close();
  return 0;
}
