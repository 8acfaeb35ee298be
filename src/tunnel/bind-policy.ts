// Where the daemon may listen. It is reached from outside through the tunnel, which connects out
// from the VPS, so it needs no public address: loopback unless the operator says otherwise, and
// then with a warning on every start.
import { CboError } from "../kit/errors.ts";

export function isLoopbackHost(host: string): boolean {
  return host === "localhost" || host === "::1" || host === "[::1]" || /^127(\.\d{1,3}){3}$/.test(host);
}

/** Refuses a non-loopback host without `allowPublic`; with it, returns the warning to print. */
export function checkBind(host: string, allowPublic: boolean): { warning: string | null } {
  if (isLoopbackHost(host)) return { warning: null };
  if (!allowPublic) {
    throw new CboError(
      "ERR_VALIDATION",
      `Refusing to listen on ${host}: the daemon listens on loopback (127.0.0.1) only, unless told otherwise.`,
      {
        hint: "Reach it from outside through Cloudflare Tunnel (`cbo tunnel create`). To listen on another interface anyway, pass the explicit allow-public flag as well.",
      },
    );
  }
  return {
    warning:
      `WARNING: the daemon listens on ${host}, not on loopback: anyone who can reach this address can try its API ` +
      "(tokens still apply). Prefer 127.0.0.1 behind Cloudflare Tunnel, or firewall the port.",
  };
}
