// `cbo audit verify`: proves the audit log offline. It opens the SQLite file read-only and never
// contacts the daemon (whose word is what is being checked); it needs only the file, the
// checkpoints and the public key. Checkpoints: those stored in the database (on the same disk as
// the log, so they stop only a careless forger) plus every --checkpoint file (default
// <data>/audit-checkpoints.jsonl, which the daemon appends to and which belongs off the VPS).
// Key: --public-key, --key-url, key lines in a checkpoint file, else <data>/orchestrator-key.json.
// Exit 0: every entry and checkpoint verified. Exit 1: the first bad entry is named.
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { CboError } from "../../kit/errors.ts";
import { parse } from "../args.ts";
import {
  fetchKey,
  readCheckpointFile,
  readKeyFile,
  decodePublicKey,
  verifierKeys,
  type CheckpointFile,
  type PublicKey,
} from "./audit-verify-inputs.ts";
import { verifyDatabase } from "./audit-verify-db.ts";
import type { CliIo } from "../cli-io.ts";
import { DEFAULT_DATA_DIR } from "../discover.ts";
import { formatVerifyResult } from "./format-verify.ts";
import { AUDIT_USAGE } from "../audit-usage.ts";
import { writeJson } from "../subcommand.ts";
import { createPaint, useColour } from "../table.ts";

export const CHECKPOINT_FILE = "audit-checkpoints.jsonl";
export const PUBLIC_KEY_FILE = "orchestrator-key.json";

export async function auditVerify(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(
    args,
    {
      data: { type: "string" },
      db: { type: "string" },
      checkpoint: { type: "string", multiple: true },
      "public-key": { type: "string", multiple: true },
      "key-url": { type: "string" },
    },
    AUDIT_USAGE,
  );
  if (positionals.length > 0) throw new CboError("ERR_USAGE", "audit verify takes no arguments, only flags.", { hint: AUDIT_USAGE });
  const dataDir = resolve(values.data ?? DEFAULT_DATA_DIR);
  const dbFile = resolve(values.db ?? join(dataDir, "orchestrator.sqlite"));
  const defaultCheckpoints = join(dataDir, CHECKPOINT_FILE);
  // Files first, then the database: a checkpoint in a file was written after the entries it
  // covers were committed, so the database read later holds them all.
  const files: CheckpointFile[] = (values.checkpoint ?? (existsSync(defaultCheckpoints) ? [defaultCheckpoints] : [])).map((f) =>
    readCheckpointFile(resolve(f)),
  );
  const keyFile = join(dataDir, PUBLIC_KEY_FILE);
  const keys = await collectKeys(values, files, keyFile);

  const run = await verifyDatabase({
    dbFile,
    external: files.flatMap((f) => f.checkpoints),
    publicKey: keys.length ? await verifierKeys(keys) : undefined,
  });
  const report = {
    ...run.result,
    db: dbFile,
    checkpointFiles: files.map((f) => ({
      file: f.file,
      checkpoints: f.checkpoints.length,
      unreadableLines: f.unreadableLines,
      ...(f.cutOffLine === undefined ? {} : { cutOffLine: f.cutOffLine }),
    })),
    storedCheckpoints: run.stored,
    keys: keys.map((k) => ({ source: k.source, ...(k.keyId ? { keyId: k.keyId } : {}) })),
    keyBesideLog: keys.some((k) => k.source === keyFile),
    coveredBySignature: run.coveredBySignature,
  };
  if (values.json) writeJson(io, report);
  else io.stdout.write(formatVerifyResult(report, createPaint(useColour(io.stdout))));
  return report.ok ? 0 : 1;
}

async function collectKeys(
  values: { "public-key"?: string[] | undefined; "key-url"?: string | undefined },
  files: CheckpointFile[],
  keyFile: string,
): Promise<PublicKey[]> {
  const keys: PublicKey[] = [
    ...(values["public-key"] ?? []).map((k) => decodePublicKey(k, "--public-key")),
    ...(values["key-url"] ? [await fetchKey(values["key-url"])] : []),
    ...files.flatMap((f) => f.keys),
  ];
  if (keys.length === 0 && existsSync(keyFile)) keys.push(readKeyFile(keyFile));
  // The same key from two sources is one key.
  const seen = new Set<string>();
  return keys.filter((k) => {
    const hex = Buffer.from(k.raw).toString("hex");
    return seen.has(hex) ? false : (seen.add(hex), true);
  });
}
