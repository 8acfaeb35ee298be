// Runs a real wrangler (the latest pinned one, or 4.86) as `wrangler deploy --dry-run --outdir D
// --outfile F` in a sealed environment (no HOME config, no metrics, no NODE_ENV, no account), and
// reads back what it wrote: the outdir's files (README.md aside: it holds a timestamp) and the
// multipart body it would upload, part by part.
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
export const WRANGLERS = {
  latest: join(repoRoot, "node_modules", "wrangler", "bin", "wrangler.js"),
  "4.86": join(repoRoot, "node_modules", "wrangler-4.86", "bin", "wrangler.js"),
} as const;
export type WranglerVersion = keyof typeof WRANGLERS;

export type FormPart = { name: string; filename: string | undefined; contentType: string; bytes: Uint8Array };
export type DryRun = {
  /** Relative path -> bytes, README.md excluded. */
  outdir: Map<string, Uint8Array>;
  /** The `metadata` part, parsed. */
  metadata: Record<string, unknown>;
  /** Every other part, in order. */
  parts: FormPart[];
  stdout: string;
  stderr: string;
};

function sealedEnv(home: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env["PATH"] ?? "/usr/bin:/bin",
    HOME: home,
    XDG_CONFIG_HOME: join(home, ".config"),
    TMPDIR: join(home, "tmp"),
    CI: "1",
    NO_COLOR: "1",
    FORCE_COLOR: "0",
    WRANGLER_SEND_METRICS: "false",
    WRANGLER_SEND_ERROR_REPORTS: "false",
    WRANGLER_HIDE_BANNER: "true",
    // The run's shared compile cache (test/support/global-setup.ts): faster start-ups, nothing else.
    ...(process.env["NODE_COMPILE_CACHE"] ? { NODE_COMPILE_CACHE: process.env["NODE_COMPILE_CACHE"] } : {}),
  };
}

export function run(
  version: WranglerVersion,
  cwd: string,
  args: string[],
  timeoutMs = 120_000,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const home = mkdtempSync(join(tmpdir(), "cbo-wrangler-home-"));
  mkdirSync(join(home, "tmp"), { recursive: true });
  mkdirSync(join(home, ".config"), { recursive: true });
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [WRANGLERS[version], ...args],
      { cwd, env: sealedEnv(home), timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, killSignal: "SIGKILL" },
      (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : -1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)).split("\\").join("/"));
}

/** Splits a multipart/form-data body (the boundary is its first line) into parts. */
export function parseMultipart(body: Buffer): FormPart[] {
  const firstLineEnd = body.indexOf("\r\n");
  const boundary = body.subarray(0, firstLineEnd).toString("latin1");
  const parts: FormPart[] = [];
  let at = 0;
  for (;;) {
    const start = body.indexOf(boundary, at);
    if (start < 0) break;
    const afterBoundary = start + boundary.length;
    if (body.subarray(afterBoundary, afterBoundary + 2).toString("latin1") === "--") break;
    const headersStart = afterBoundary + 2;
    const headersEnd = body.indexOf("\r\n\r\n", headersStart);
    const headers = body.subarray(headersStart, headersEnd).toString("utf8").split("\r\n");
    const next = body.indexOf("\r\n" + boundary, headersEnd + 4);
    const bytes = new Uint8Array(body.subarray(headersEnd + 4, next));
    const disposition = headers.find((h) => h.toLowerCase().startsWith("content-disposition:")) ?? "";
    const name = /name="([^"]*)"/.exec(disposition)?.[1] ?? "";
    const filename = /filename="([^"]*)"/.exec(disposition)?.[1];
    const contentType =
      headers
        .find((h) => h.toLowerCase().startsWith("content-type:"))
        ?.slice("content-type:".length)
        .trim() ?? "";
    parts.push({ name, filename, contentType, bytes });
    at = next + 2;
  }
  return parts;
}

/** `wrangler deploy --dry-run --outdir <outdir> --outfile <file> ...extra` in `cwd`. */
export async function wranglerDryRun(version: WranglerVersion, cwd: string, outdir: string, extra: string[] = []): Promise<DryRun> {
  const outfile = join(mkdtempSync(join(tmpdir(), "cbo-wrangler-form-")), "form.txt");
  const r = await run(version, cwd, ["deploy", "--dry-run", "--outdir", outdir, "--outfile", outfile, ...extra]);
  if (r.code !== 0) throw new Error(`wrangler ${version} deploy --dry-run failed in ${cwd} (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  const outdirFiles = new Map(
    listFiles(outdir)
      .filter((f) => f !== "README.md")
      .map((f) => [f, new Uint8Array(readFileSync(join(outdir, f)))]),
  );
  const all = parseMultipart(readFileSync(outfile));
  const meta = all.find((p) => p.name === "metadata");
  return {
    outdir: outdirFiles,
    metadata: meta ? (JSON.parse(Buffer.from(meta.bytes).toString("utf8")) as Record<string, unknown>) : {},
    parts: all.filter((p) => p.name !== "metadata"),
    stdout: r.stdout,
    stderr: r.stderr,
  };
}
