// `cbo kit`: the deployment kit as a .tar.gz (src/packaging). With a daemon running on the data
// directory (or at --url), the daemon builds it from its own configuration, port and tunnel
// (GET /v1/kit, admin token; on the audit record as kit.download). With none, it is built here
// from the spec file. Either way the kit holds names, paths and settings only, never a secret.
import { createHash } from "node:crypto";
import { existsSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { loadSpec } from "../../config/load.ts";
import { KitOverridesSchema, type KitOverrides } from "../../contract/index.ts";
import { buildKit, kitFileName, PRODUCT_ROOT, productInfo } from "../../packaging/index.ts";
import { CboError } from "../../kit/errors.ts";
import { intFlag, parse } from "../args.ts";
import { cliClient } from "../connect.ts";
import { liveDaemon } from "../live-daemon.ts";
import { printJsonLine } from "../output.ts";
import { hinted } from "../subcommand.ts";
import { usageOf } from "../usage/index.ts";

/**
 * `cbo up`'s default spec (./orchestrator.yaml, else the bundled example), without importing
 * up-command.ts, which loads the local edge (Miniflare) and the whole daemon: a kit needs neither.
 */
const defaultConfig = () =>
  existsSync("orchestrator.yaml") ? resolve("orchestrator.yaml") : join(PRODUCT_ROOT, "examples", "orchestrator.yaml");

export const KIT_USAGE = usageOf("kit");

const FLAGS = {
  out: { type: "string" },
  force: { type: "boolean" },
  config: { type: "string" },
  port: { type: "string" },
  "edge-port": { type: "string" },
  "data-dir": { type: "string" },
  "install-dir": { type: "string" },
  "etc-dir": { type: "string" },
  "tunnel-hostname": { type: "string" },
  url: { type: "string" },
  token: { type: "string" },
  "token-file": { type: "string" },
  data: { type: "string" },
} as const;

type Written = { file: string; bytes: number; sha256: string; source: string; audited: boolean };

/** The flags that shape the kit, validated as the daemon validates its query (names the flag on error). */
function overrides(v: Record<string, string | boolean | undefined>) {
  // Ports in the CLI's own words (`--port must be a whole number from 1 to 65535 (got "abc")`).
  for (const flag of ["port", "edge-port"]) if (typeof v[flag] === "string") intFlag(v[flag], flag, 1, 65_535);
  const raw = {
    port: v.port,
    edgePort: v["edge-port"],
    dataDir: v["data-dir"],
    installDir: v["install-dir"],
    etcDir: v["etc-dir"],
    tunnelHostname: v["tunnel-hostname"],
  };
  const r = KitOverridesSchema.safeParse(Object.fromEntries(Object.entries(raw).filter(([, x]) => x !== undefined)));
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const flag = String(issue.path[0] ?? "").replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    throw new CboError("ERR_USAGE", `--${flag}: ${issue.message}`, { hint: KIT_USAGE });
  }
  return r.data;
}

/** GET /v1/kit through the daemon client (a kit holds the whole product: a minute to build and send). */
function fromDaemon(url: string, token: string | undefined, q: KitOverrides): Promise<Uint8Array> {
  return cliClient({ url, token, timeoutMs: 60_000 }).downloadKit(q);
}

function write(file: string, bytes: Uint8Array, force: boolean): void {
  try {
    // Exclusive unless --force: a kit from another configuration is not silently replaced.
    writeFileSync(file, bytes, { flag: force ? "w" : "wx", mode: 0o644 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST")
      throw new CboError("ERR_CONFLICT", `${file} exists.`, { hint: "pass --force to replace it, or --out another file" });
    throw new CboError("ERR_IO", `Cannot write ${file}: ${(e as Error).message}`, { cause: e });
  }
}

export async function kitCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, FLAGS, KIT_USAGE);
  if (values.help) {
    process.stdout.write(KIT_USAGE + "\n");
    return 0;
  }
  if (positionals.length > 0) throw new CboError("ERR_USAGE", `Unexpected argument "${positionals[0]}".`, { hint: KIT_USAGE });
  const chosen = overrides(values);
  const file = resolve(values.out ?? kitFileName(productInfo()));
  const daemon = await liveDaemon({ url: values.url, token: values.token, "token-file": values["token-file"], data: values.data });
  let written: Written;
  if (daemon) {
    if (values.config !== undefined)
      process.stderr.write("cbo: --config is not used: the running daemon builds the kit from its own configuration\n");
    const bytes = await hinted(fromDaemon(daemon.url, daemon.token, chosen), {
      ERR_FORBIDDEN: "the kit describes the whole installation: it needs an admin token (<data>/admin-token)",
    });
    write(file, bytes, values.force === true);
    written = {
      file,
      bytes: bytes.length,
      sha256: createHash("sha256").update(bytes).digest("hex"),
      source: `the daemon at ${daemon.url}`,
      audited: true,
    };
  } else {
    const config = resolve(values.config ?? defaultConfig());
    // The data directory named (and any .cbo, which the kit never walks into) stays out of the kit.
    const kit = buildKit({ spec: loadSpec(config), options: chosen, protect: [resolve(values.data ?? ".cbo")] });
    write(file, kit.bytes, values.force === true);
    written = { file, bytes: kit.bytes.length, sha256: kit.sha256, source: config, audited: false };
  }
  if (values.json) printJsonLine(written);
  else {
    process.stdout.write(
      `wrote ${written.file} (${written.bytes} bytes, sha256 ${written.sha256})\n` +
        `  built from ${written.source}${written.audited ? "; on the audit record as kit.download" : ""}\n` +
        `  next: copy it to the VPS, unpack it, and follow README.md (sudo ./setup-vps.sh --mode systemd|pm2|compose)\n`,
    );
  }
  return 0;
}
