// What `cbo init` puts on disk: the data directory (0700), the master key, orchestrator.yaml and
// the example Worker. Nothing existing is overwritten: a key file replaced would make every secret
// sealed with it unreadable, and an orchestrator.yaml is the user's.
import { existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { CboError } from "../kit/errors.ts";
import { classifyStorageError } from "../store/storage-errors.ts";
import { ensurePrivateDir, writeWholeFile } from "../config/private-fs.ts";
import { loadSpec, type ResolvedSpec } from "../config/load.ts";
import { generateKeyFile, loadMasterKey, type MasterKey } from "../vault/index.ts";
import { EXAMPLE_WORKER_FILE, EXAMPLE_WORKER_SOURCE, specYaml, type TargetChoice } from "./spec-template.ts";
import type { StepOutcome } from "./wizard.ts";

export type MasterKeyChoice = { kind: "env" } | { kind: "file"; file: string } | { kind: "passphrase"; passphrase: string };

/** At least this long: a passphrase is the whole key, stretched by scrypt. */
export const MIN_PASSPHRASE = 12;

export function ensureDataDir(dataDir: string): void {
  try {
    ensurePrivateDir(dataDir);
  } catch (e) {
    throw new CboError("ERR_IO", `Cannot create the data directory ${dataDir} (${(e as NodeJS.ErrnoException).code ?? "error"}).`, {
      hint: "Pick a directory you can write: --data DIR.",
    });
  }
}

/** The master key step: checks or creates the key; a key object when one is in hand (not for a passphrase). */
export function prepareMasterKey(
  dataDir: string,
  choice: MasterKeyChoice,
  env: Record<string, string | undefined>,
): StepOutcome & { key?: MasterKey } {
  ensureDataDir(dataDir);
  if (choice.kind === "env") {
    const key = loadMasterKey({ env: { CBO_MASTER_KEY: env.CBO_MASTER_KEY } });
    return { status: "done", detail: `from CBO_MASTER_KEY (key ${key.id}); keep that variable set for the daemon`, key };
  }
  if (choice.kind === "passphrase") {
    if (choice.passphrase.length < MIN_PASSPHRASE) {
      throw new CboError("ERR_VALIDATION", `The passphrase is shorter than ${MIN_PASSPHRASE} characters.`, {
        hint: "Use a long passphrase (a few random words), or a key file instead.",
      });
    }
    return {
      status: "done",
      detail: "from a passphrase (stretched with scrypt; the salt is kept in the store); the daemon needs it in CBO_MASTER_PASSPHRASE",
    };
  }
  const file = resolve(choice.file);
  if (existsSync(file)) {
    const key = loadMasterKey({ keyFile: file });
    return { status: "done", detail: `using the existing key file ${file} (key ${key.id})`, key };
  }
  // A store without its key: a new key would not open the vault sealed in it.
  if (existsSync(join(dataDir, "orchestrator.sqlite"))) {
    throw new CboError("ERR_VALIDATION", `${dataDir} already holds a store, but its master key file ${file} does not exist.`, {
      hint: "Give the key it was created with (--master-key-file FILE or CBO_MASTER_KEY), or run cbo init with an empty --data directory.",
    });
  }
  const key = generateKeyFile(file);
  return {
    status: "done",
    detail: `created ${file} (mode 0600, key ${key.id}); backups never include it: keep a copy of it somewhere else`,
    key,
  };
}

/** Writes orchestrator.yaml and the example Worker where they do not exist yet; then loads the spec. */
export function writeProject(configFile: string, targets: TargetChoice): { spec: ResolvedSpec; wrote: string[] } {
  const wrote: string[] = [];
  if (!existsSync(configFile)) {
    const worker = join(dirname(configFile), EXAMPLE_WORKER_FILE);
    mkdirSync(dirname(worker), { recursive: true });
    if (!existsSync(worker)) {
      writeWhole(worker, EXAMPLE_WORKER_SOURCE);
      wrote.push(worker);
    }
    writeWhole(configFile, specYaml(targets));
    wrote.push(configFile);
  }
  return { spec: loadSpec(configFile), wrote };
}

/**
 * Writes `file` whole or not at all: a temp file beside it, synced, then renamed. A plain write cut
 * off (a full disk, a kill) left an empty or partial file under the real name, which the next
 * `cbo init` keeps as the user's (it never overwrites) and the first release then ships.
 */
function writeWhole(file: string, text: string): void {
  try {
    writeWholeFile(file, text, 0o644);
  } catch (e) {
    throw (
      classifyStorageError(e, { path: file, neededBytes: 1024 * 1024 }) ??
      new CboError("ERR_IO", `Cannot write ${file} (${(e as NodeJS.ErrnoException).code ?? "error"}).`, {
        hint: "Pick a --config path in a directory you can write.",
        cause: e,
      })
    );
  }
}

/** The Cloudflare API token from its file (never the command line); refused when others can read it. */
export function readApiTokenFile(file: string): string {
  let st;
  try {
    st = statSync(file);
  } catch (e) {
    throw new CboError("ERR_NOT_FOUND", `Cannot read the API token file ${file} (${(e as NodeJS.ErrnoException).code ?? "error"}).`, {
      hint: "Save the token in a file with mode 0600 and pass --api-token-file FILE.",
    });
  }
  if ((st.mode & 0o077) !== 0) {
    throw new CboError(
      "ERR_VALIDATION",
      `The API token file ${file} can be read by group or others (mode 0${(st.mode & 0o777).toString(8)}).`,
      { hint: `chmod 600 ${file}` },
    );
  }
  const token = readFileSync(file, "utf8").trim();
  if (token === "") throw new CboError("ERR_VALIDATION", `The API token file ${file} is empty.`);
  return token;
}
