// Which Host headers the daemon answers: a defence against DNS rebinding. A page on
// attacker.example whose name is made to resolve to 127.0.0.1 can make a visitor's browser send
// requests to the daemon; the browser then still says `Host: attacker.example`, so refusing every
// host the daemon does not go by stops it before any route runs (and before any cookie or token
// would matter). Allowed:
//   - loopback: localhost, 127.0.0.0/8, ::1 (any port): the CLI, the dashboard on this host, the
//     local edge's tunnel routing, cloudflared configured with a loopback Host;
//   - the tunnel's hostnames (cloudflared forwards the public hostname as Host);
//   - hosts the operator adds (CBO_ALLOWED_HOSTS, e.g. the name of a public interface with allowPublic).
// In-process requests (app.request, no socket) are not checked: no browser can send them.

/** A Host header's host name: lowercased, without port, brackets or a trailing dot; undefined when malformed. */
export function hostName(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  let h = header.trim().toLowerCase();
  if (h === "" || h.length > 300) return undefined;
  if (h.startsWith("[")) {
    const end = h.indexOf("]");
    if (end < 0) return undefined;
    const rest = h.slice(end + 1);
    if (rest !== "" && !/^:\d{1,5}$/.test(rest)) return undefined;
    return h.slice(1, end);
  }
  const colon = h.indexOf(":");
  if (colon >= 0) {
    if (!/^\d{1,5}$/.test(h.slice(colon + 1))) return undefined;
    h = h.slice(0, colon);
  }
  if (h.endsWith(".")) h = h.slice(0, -1);
  return /^[a-z0-9._-]+$/.test(h) ? h : undefined;
}

const isLoopbackName = (h: string) => h === "localhost" || h === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);

export type HostPolicy = {
  /** Is a request with this Host header answered? */
  allows(header: string | undefined): boolean;
};

/** `tunnelHosts` is read on every check (a tunnel may be created while the daemon runs); keep it cheap. */
export function createHostPolicy(o: { tunnelHosts?: () => readonly string[]; extraHosts?: readonly string[] }): HostPolicy {
  const extra = new Set((o.extraHosts ?? []).map((h) => hostName(h)).filter((h): h is string => h !== undefined));
  return {
    allows(header) {
      const h = hostName(header);
      if (h === undefined) return false;
      if (isLoopbackName(h) || extra.has(h)) return true;
      return o.tunnelHosts?.().includes(h) ?? false;
    },
  };
}

/** Host names from CBO_ALLOWED_HOSTS: comma- or space-separated. */
export function parseAllowedHosts(value: string | undefined): string[] {
  return (value ?? "").split(/[\s,]+/).filter((s) => s !== "");
}
