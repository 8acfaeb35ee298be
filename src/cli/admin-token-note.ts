// What to say about the admin token when a daemon starts without showing a new one. The daemon
// writes <data>/admin-token on its first start only; a restored data directory has none (an
// archive never holds it), and an operator may have removed it. Naming the file is then untrue:
// say how to get an admin token instead.
import { existsSync } from "node:fs";
import { asInvoked } from "./invocation.ts";

/** The way back in: a new admin token minted offline (the daemon stopped), written to the file. */
export function offlineAdminTokenCommand(dataDir: string): string {
  return asInvoked(`cbo tokens create --offline --data ${dataDir} --name admin --role admin`);
}

export function adminTokenNote(file: string, dataDir: string): { exists: boolean; text: string } {
  if (existsSync(file)) return { exists: true, text: `in ${file}` };
  return {
    exists: false,
    text: `none in ${dataDir} (${file} does not exist: a restored data directory, or the file was removed); use an admin token you kept, or stop the daemon and make one: ${offlineAdminTokenCommand(dataDir)}`,
  };
}
