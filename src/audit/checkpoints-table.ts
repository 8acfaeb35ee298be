// SQL for audit_checkpoints (migration 003). The frontier column is the writer's cache for the
// next checkpoint (merkle.ts); it is not signed and never exported.
import * as z from "zod";
import type { Db } from "../store/db.ts";
import type { Frontier } from "./merkle.ts";
import { AuditCheckpointSchema, HexHash, type AuditCheckpoint, type VerifyCheckpoint } from "./schema.ts";

type Row = AuditCheckpoint & { frontier: string };
const COLUMNS = "tree_size, merkle_root, head_hash, key_id, at, signature";
const FrontierNodes = z.array(HexHash);

export function latestCheckpoint(db: Db): (AuditCheckpoint & { frontier: Frontier | undefined }) | undefined {
  const row = db.prepare(`SELECT ${COLUMNS}, frontier FROM audit_checkpoints ORDER BY tree_size DESC LIMIT 1`).get() as Row | undefined;
  if (!row) return undefined;
  const { frontier, ...cp } = row;
  let nodes: z.infer<typeof FrontierNodes> | undefined;
  try {
    nodes = FrontierNodes.parse(JSON.parse(frontier));
  } catch {
    nodes = undefined; // the writer then recomputes from the entries
  }
  return { ...AuditCheckpointSchema.parse(cp), frontier: nodes && { size: cp.tree_size, nodes } };
}

export function latestCheckpointAt(db: Db): string | undefined {
  return (db.prepare("SELECT at FROM audit_checkpoints ORDER BY tree_size DESC LIMIT 1").get() as { at: string } | undefined)?.at;
}

/** Inserts unless a checkpoint of that size exists already (another writer got there first). */
export function insertCheckpoint(db: Db, cp: AuditCheckpoint, frontier: Frontier): void {
  db.prepare(`INSERT INTO audit_checkpoints (${COLUMNS}, frontier) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (tree_size) DO NOTHING`).run(
    cp.tree_size,
    cp.merkle_root,
    cp.head_hash,
    cp.key_id,
    cp.at,
    cp.signature,
    JSON.stringify(frontier.nodes),
  );
}

export function checkpointAt(db: Db, treeSize: number): AuditCheckpoint | undefined {
  const row = db.prepare(`SELECT ${COLUMNS} FROM audit_checkpoints WHERE tree_size = ?`).get(treeSize);
  return row ? AuditCheckpointSchema.parse(row) : undefined;
}

export function listCheckpoints(db: Db, opts: { sinceTreeSize?: number; upTo?: number } = {}): AuditCheckpoint[] {
  const rows = db
    .prepare(`SELECT ${COLUMNS} FROM audit_checkpoints WHERE tree_size > ? AND tree_size <= ? ORDER BY tree_size`)
    .all(opts.sinceTreeSize ?? -1, opts.upTo ?? Number.MAX_SAFE_INTEGER);
  return rows.map((r) => AuditCheckpointSchema.parse(r));
}

/** Every stored checkpoint for the verifier; a row that does not parse becomes "unreadable". */
export function checkpointsForVerify(db: Db): VerifyCheckpoint[] {
  const rows = db.prepare(`SELECT ${COLUMNS} FROM audit_checkpoints ORDER BY tree_size`).all() as Array<Record<string, unknown>>;
  return rows.map((r, i) => {
    const parsed = AuditCheckpointSchema.safeParse(r);
    if (parsed.success) return parsed.data;
    return { unreadable: true, line: i + 1, ...(typeof r.tree_size === "number" ? { tree_size: r.tree_size } : {}) };
  });
}

export function maxCheckpointSize(db: Db): number {
  return Number((db.prepare("SELECT COALESCE(MAX(tree_size), -1) AS n FROM audit_checkpoints").get() as { n: number }).n);
}
