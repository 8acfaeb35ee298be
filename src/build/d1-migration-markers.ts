// Markers a D1 migration file may carry in a line comment, so that wrangler (which sees only SQL
// and comments) and the orchestrator read the same files:
//   -- cbo:contract         a contract migration (expand/contract): it removes or narrows what the
//                           previous code still uses, so it runs only after every target of the
//                           release reached 100% and passed its last gate, never in a release that
//                           rolled back. Without the marker a migration is an expand one: applied in
//                           each target before any traffic shifts there.
//   -- cbo:breaks-rollback  code released before this migration cannot run on the schema it makes:
//                           a rollback to such code is refused unless forced.
// A marker counts only as a whole line comment (`-- cbo:contract`, any case, spaces around), so a
// string or a longer comment that merely mentions it does not.
export type D1MigrationMarkers = { contract: boolean; breaksRollback: boolean };

const LINE = /^[ \t]*--[ \t]*cbo:([a-z-]+)[ \t]*$/gim;

export function d1MigrationMarkers(sql: string): D1MigrationMarkers {
  const found = new Set([...sql.matchAll(LINE)].map((m) => m[1]!.toLowerCase()));
  return { contract: found.has("contract"), breaksRollback: found.has("breaks-rollback") };
}
