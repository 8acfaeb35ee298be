// The dashboard's files as the daemon serves them: the browser code (src/dashboard/*.ts) bundled
// with esbuild on the first request and kept in memory (no build step, nothing committed), and the
// few static files read once. The daemon reads them by path: the API does not import the
// dashboard, whose code runs only in the browser.
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CboError } from "../../kit/errors.ts";
import type { Logger } from "../../telemetry/index.ts";

export const DASHBOARD_DIR = fileURLToPath(new URL("../../dashboard/", import.meta.url));

export type Asset = { body: string; type: string; etag: string };

/** Static files served as they are, by their name under /ui/. */
const STATIC: Record<string, string> = {
  "index.html": "text/html; charset=utf-8",
  "styles.css": "text/css; charset=utf-8",
  "favicon.svg": "image/svg+xml",
};

const asset = (body: string, type: string): Asset => ({
  body,
  type,
  etag: `"${createHash("sha256").update(body).digest("base64url").slice(0, 22)}"`,
});

export type DashboardAssets = ReturnType<typeof createDashboardAssets>;

export function createDashboardAssets(opts: { dir?: string; log: Logger }) {
  const dir = opts.dir ?? DASHBOARD_DIR;
  const cache = new Map<string, Promise<Asset>>();

  async function bundle(): Promise<Asset> {
    const { build } = await import("esbuild");
    const out = await build({
      entryPoints: [join(dir, "main.ts")],
      bundle: true,
      format: "esm",
      platform: "browser",
      target: ["chrome120", "firefox120", "safari17"],
      minify: true,
      write: false,
      legalComments: "none",
      charset: "utf8",
      logLevel: "silent",
    });
    return asset(out.outputFiles[0]!.text, "text/javascript; charset=utf-8");
  }

  /** Loads once; a failure is not cached, so a fixed file is picked up by the next request. */
  function load(name: string, make: () => Promise<Asset>): Promise<Asset> {
    let p = cache.get(name);
    if (!p) {
      p = make().catch((e: unknown) => {
        cache.delete(name);
        opts.log.error(`dashboard: cannot build ${name}: ${e instanceof Error ? e.message : String(e)}`);
        throw new CboError("ERR_INTERNAL", `The dashboard's ${name} could not be built; the daemon's log has the details.`);
      });
      cache.set(name, p);
    }
    return p;
  }

  return {
    /** The asset named `name` under /ui/, or undefined when there is no such file. */
    get(name: string): Promise<Asset> | undefined {
      if (name === "app.js") return load(name, bundle);
      const type = STATIC[name];
      if (!type) return undefined;
      return load(name, async () => asset(await readFile(join(dir, name), "utf8"), type));
    },
  };
}
