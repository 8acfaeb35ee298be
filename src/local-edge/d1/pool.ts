// The D1 databases' engines, opened on first use (a database nobody queries costs nothing) and
// closed with the edge. Each database lives in <root>/<uuid>/ (mode 0700).
import { rmSync } from "node:fs";
import { join } from "node:path";
import { openD1Engine, type D1Engine } from "./engine.ts";

export function createD1Pool(root: string, regionOf: (databaseId: string) => string) {
  const open = new Map<string, D1Engine>();
  return {
    get(databaseId: string): D1Engine {
      let e = open.get(databaseId);
      if (!e) {
        e = openD1Engine({ id: databaseId, dir: join(root, databaseId), region: regionOf(databaseId) });
        open.set(databaseId, e);
      }
      return e;
    },
    /** Closes the database and deletes its file and history. */
    destroy(databaseId: string): void {
      open.get(databaseId)?.close();
      open.delete(databaseId);
      rmSync(join(root, databaseId), { recursive: true, force: true });
    },
    closeAll(): void {
      for (const e of open.values()) e.close();
      open.clear();
    },
  };
}
export type D1Pool = ReturnType<typeof createD1Pool>;
