// What `cbo init` will do, decided before anything happens: from the flags, the environment, and
// (on a terminal, without --yes) the user's answers. Questions go to stderr; stdout stays for
// results. Without a terminal and without --yes, the flags must say local or Cloudflare.
import { createInterface } from "node:readline/promises";
import { join, resolve } from "node:path";
import { CboError } from "../kit/errors.ts";
import { DEFAULT_BASE_URL } from "../cloudflare/index.ts";
import { configuredMasterKey } from "../security/master-key.ts";
import type { MasterKeyChoice } from "./files.ts";
import type { TargetChoice } from "./spec-template.ts";

export type InitFlags = {
  data: string;
  config: string;
  local: boolean;
  accountIds: string[];
  apiTokenFile?: string | undefined;
  apiUrl?: string | undefined;
  regions?: string[] | undefined;
  masterKeyFile?: string | undefined;
  release: boolean;
  serve: boolean;
  yes: boolean;
};

export type InitChoices = {
  dataDir: string;
  configFile: string;
  targets: TargetChoice;
  /** The Cloudflare token's file; without one (Cloudflare targets), the token is CLOUDFLARE_API_TOKEN (never written to disk). */
  apiTokenFile?: string;
  masterKey: MasterKeyChoice;
  release: boolean;
  serve: boolean;
};

export type Ask = (question: string, fallback: string) => Promise<string>;

const ACCOUNT = /^[0-9a-f]{32}$/;
/** The local edge's regions when --regions is not given (as `cbo up` and `cbo edge` start them). */
export const DEFAULT_REGIONS = ["eu", "us", "ap"];

/** "ID" or "name=ID" per --account-id; names default to cf, or cf1, cf2, … for several. */
export function parseAccounts(given: string[]): Array<{ name: string; accountId: string }> {
  return given.map((g, i) => {
    const [name, id] = g.includes("=") ? (g.split("=", 2) as [string, string]) : [given.length === 1 ? "cf" : `cf${i + 1}`, g];
    if (!ACCOUNT.test(id))
      throw new CboError("ERR_USAGE", `--account-id: "${id}" is not a Cloudflare account id (32 lowercase hex characters).`, {
        hint: "Cloudflare dashboard → Workers & Pages → Account ID.",
      });
    if (!/^[a-z][a-z0-9-]{0,62}$/.test(name))
      throw new CboError("ERR_USAGE", `--account-id: target name "${name}" must be lowercase letters, digits and dashes.`);
    return { name, accountId: id };
  });
}

/**
 * The decisions; `ask` is given only when questions may be asked (a terminal, no --yes). wrangler's
 * CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID stand in for --api-token-file and --account-id
 * when those are absent (and, both set, choose Cloudflare over the local edge unless --local).
 */
export async function decide(flags: InitFlags, env: Record<string, string | undefined>, ask?: Ask): Promise<InitChoices> {
  const dataDir = resolve(flags.data);
  const envToken = env.CLOUDFLARE_API_TOKEN?.trim() || undefined;
  const envAccount = env.CLOUDFLARE_ACCOUNT_ID?.trim() || undefined;
  let cloud =
    flags.accountIds.length > 0 || flags.apiTokenFile !== undefined || (!flags.local && envToken !== undefined && envAccount !== undefined);
  if (flags.local && cloud) throw new CboError("ERR_USAGE", "Give either --local or --account-id/--api-token-file, not both.");
  if (!flags.local && !cloud) {
    if (ask) cloud = (await ask("Release to (1) the local edge on this machine, or (2) Cloudflare accounts?", "1")).trim() === "2";
    else if (!flags.yes) {
      throw new CboError(
        "ERR_USAGE",
        "Without a terminal, say where to release: --local, or --account-id ID --api-token-file FILE (or --yes for the local edge).",
        { hint: "cbo init --local --yes" },
      );
    }
  }
  let targets: TargetChoice;
  let apiTokenFile: string | undefined;
  if (cloud) {
    let ids = flags.accountIds.length > 0 ? flags.accountIds : envAccount ? [envAccount] : [];
    if (ids.length === 0 && ask)
      ids = (await ask("Cloudflare account id(s), comma-separated", ""))
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean);
    if (ids.length === 0) throw new CboError("ERR_USAGE", "Cloudflare needs at least one --account-id.");
    apiTokenFile =
      flags.apiTokenFile ??
      (envToken === undefined && ask
        ? (await ask("File holding the Cloudflare API token (mode 0600)", "")).trim() || undefined
        : undefined);
    if (!apiTokenFile && envToken === undefined)
      throw new CboError(
        "ERR_USAGE",
        "Cloudflare needs --api-token-file FILE or CLOUDFLARE_API_TOKEN in the environment (the token never goes on the command line).",
      );
    targets = { kind: "cloudflare", apiUrl: flags.apiUrl ?? DEFAULT_BASE_URL, accounts: parseAccounts(ids) };
  } else {
    targets = { kind: "local", regions: flags.regions ?? DEFAULT_REGIONS };
  }

  // Which source the master key comes from is decided in one place (src/security/master-key.ts).
  let masterKey: MasterKeyChoice;
  const configured = configuredMasterKey({ env, keyFile: flags.masterKeyFile });
  if (configured.kind === "env") masterKey = { kind: "env" };
  else if (configured.kind === "passphrase") masterKey = { kind: "passphrase", passphrase: configured.passphrase };
  else if (configured.kind === "file") masterKey = { kind: "file", file: configured.file };
  else {
    const fallback = join(dataDir, "master.key");
    masterKey = {
      kind: "file",
      file: resolve(ask ? (await ask("Master key file (created with mode 0600 if missing)", fallback)).trim() || fallback : fallback),
    };
  }

  let release = flags.release;
  if (release && ask) {
    const where = cloud ? "to your Cloudflare account(s)" : "on the local edge";
    release = /^y/i.test(await ask(`Start the daemon now and release the example worker ${where}? [Y/n]`, "y"));
  }
  let serve = flags.serve;
  if (release && !serve && ask)
    serve = /^y/i.test(await ask("Keep the daemon (and the local edge) running afterwards, as `cbo up` does? [y/N]", "n"));
  return {
    dataDir,
    configFile: resolve(flags.config),
    targets,
    ...(apiTokenFile ? { apiTokenFile: resolve(apiTokenFile) } : {}),
    masterKey,
    release,
    serve,
  };
}

/** Questions on stderr, answers from stdin; an empty answer takes the fallback. */
export function terminalAsk(): { ask: Ask; close(): void } {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  return {
    ask: async (q, fallback) => (await rl.question(`${q}${fallback ? ` [${fallback}]` : ""}: `)).trim() || fallback,
    close: () => rl.close(),
  };
}
