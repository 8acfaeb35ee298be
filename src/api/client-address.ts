// Who is on the other end, for rate limits, stream caps and the audit's `client`.
//
// The socket's peer is the client, except for requests that come through Cloudflare Tunnel: those
// arrive from cloudflared, which runs beside the daemon (same host, or the daemon's network
// namespace in the Compose kit) and so connects from loopback. Cloudflare's edge sets
// CF-Connecting-IP to the address the visitor connected from (replacing any value the visitor
// sent), and cloudflared passes it on. So the header is believed only when
//   - a tunnel is configured (the daemon has a tunnel record: its ingress points cloudflared here), and
//   - the peer is loopback (cloudflared's side), and
//   - it parses as an IP address.
// Anything else on loopback is a process on the VPS itself, which could write the header but gains
// nothing by it: a valid token is never refused by the limits keyed on it (auth-gate.ts). A
// dedicated listener for cloudflared would say the same with certainty, but needs a second port in
// every kit and a re-applied ingress for every existing tunnel; loopback plus a configured tunnel is
// what the ingress (service = the daemon's loopback URL) already guarantees.
import { isIP } from "node:net";

export const CF_CONNECTING_IP = "cf-connecting-ip";

/** Peer addresses that are this host. */
export function isLoopbackPeer(addr: string | undefined): boolean {
  if (addr === undefined) return false;
  if (addr === "::1") return true;
  const v4 = addr.startsWith("::ffff:") ? addr.slice(7) : addr;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}

/**
 * The client's address: CF-Connecting-IP when the tunnel's connection carries it (see above), else
 * the socket's peer; undefined in-process (app.request, no socket).
 */
export function clientAddress(peer: string | undefined, cfConnectingIp: string | undefined, tunnelConfigured: boolean): string | undefined {
  if (tunnelConfigured && cfConnectingIp !== undefined && isLoopbackPeer(peer)) {
    const claimed = cfConnectingIp.trim();
    if (claimed.length <= 64 && isIP(claimed) !== 0) return claimed.toLowerCase();
  }
  return peer;
}

/**
 * The key a client's address counts under in the limits: an IPv6 client by its /64 (one subscriber
 * gets a whole /64 and can rotate through it at will), anything else as it is.
 */
export function limitKeyOf(addr: string): string {
  if (isIP(addr) !== 6 || addr.startsWith("::ffff:")) return addr;
  const [head = "", tail = ""] = addr.split("::");
  const left = head === "" ? [] : head.split(":");
  const right = tail === "" ? [] : tail.split(":");
  const groups = addr.includes("::") ? [...left, ...Array<string>(8 - left.length - right.length).fill("0"), ...right] : left;
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ""))
    .join(":")}::/64`;
}
