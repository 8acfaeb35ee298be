// Is a TCP port free to listen on? Asked before anything is written: a start that fails on a busy
// port must leave the data directory as it was (no master key, no database, no edge state). The
// answer can go stale before the real listen (another process may take the port in between), so
// the listen itself still fails with the same words (portError).
import { createServer } from "node:net";
import { CboError } from "../kit/errors.ts";

export type PortUse = { port: number; what: string; flag: string };

/** Why `what` cannot listen on host:port, with what to do about it. */
export function portError(host: string, u: PortUse, code: string | undefined, cause?: unknown): CboError {
  const busy = code === "EADDRINUSE";
  return new CboError(
    "ERR_IO",
    busy
      ? `Port ${u.port} on ${host} is already in use: ${u.what} cannot listen there (EADDRINUSE).`
      : `${u.what} cannot listen on ${host}:${u.port} (${code ?? "error"}).`,
    {
      details: { host, port: u.port, code: code ?? null },
      hint: busy
        ? `pass ${u.flag} N for another port (${u.flag} 0 takes a free one), or stop the process that holds ${u.port} (\`ss -ltnp 'sport = :${u.port}'\` names it)`
        : `pass ${u.flag} N for another port (ports below 1024 need privileges)`,
      cause,
    },
  );
}

/** Throws portError for the first of `uses` that cannot be listened on; port 0 (any free port) always can. */
export async function assertPortsFree(host: string, uses: PortUse[]): Promise<void> {
  for (const u of uses) {
    if (u.port === 0) continue;
    await new Promise<void>((resolve, reject) => {
      const probe = createServer();
      probe.once("error", (e: NodeJS.ErrnoException) => reject(portError(host, u, e.code, e)));
      probe.listen({ host: host.replace(/^\[|\]$/g, ""), port: u.port, exclusive: true }, () => probe.close(() => resolve()));
    });
  }
}
