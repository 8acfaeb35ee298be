import { describe, expect, it } from "vitest";
import { clientAddress, isLoopbackPeer, limitKeyOf } from "./client-address.ts";

describe("the client's address", () => {
  it("believes CF-Connecting-IP only from a loopback peer while a tunnel is configured", () => {
    expect(clientAddress("127.0.0.1", "203.0.113.7", true)).toBe("203.0.113.7");
    expect(clientAddress("::ffff:127.0.0.1", "2001:DB8::1", true)).toBe("2001:db8::1");
    expect(clientAddress("::1", "198.51.100.2", true)).toBe("198.51.100.2");
    // No tunnel: nothing on this host is cloudflared, the header is anyone's claim.
    expect(clientAddress("127.0.0.1", "203.0.113.7", false)).toBe("127.0.0.1");
    // Not loopback (a daemon listening on a public interface): the peer is the client.
    expect(clientAddress("198.51.100.9", "203.0.113.7", true)).toBe("198.51.100.9");
    // Not an address: the peer.
    expect(clientAddress("127.0.0.1", "203.0.113.7, 10.0.0.1", true)).toBe("127.0.0.1");
    expect(clientAddress("127.0.0.1", "evil", true)).toBe("127.0.0.1");
    expect(clientAddress("127.0.0.1", undefined, true)).toBe("127.0.0.1");
    expect(clientAddress(undefined, "203.0.113.7", true)).toBeUndefined();
  });

  it("knows loopback peers", () => {
    for (const a of ["127.0.0.1", "127.9.9.9", "::1", "::ffff:127.0.0.2"]) expect(isLoopbackPeer(a)).toBe(true);
    for (const a of ["10.0.0.1", "::ffff:10.0.0.1", "fe80::1", "128.0.0.1", undefined]) expect(isLoopbackPeer(a)).toBe(false);
  });

  it("keys an IPv6 client by its /64 and anything else as it is", () => {
    expect(limitKeyOf("2001:db8:1:2:aaaa:bbbb:cccc:dddd")).toBe("2001:db8:1:2::/64");
    expect(limitKeyOf("2001:db8:1:2::7")).toBe("2001:db8:1:2::/64");
    expect(limitKeyOf("2001:0db8::1")).toBe("2001:db8:0:0::/64");
    expect(limitKeyOf("::1")).toBe("0:0:0:0::/64");
    expect(limitKeyOf("203.0.113.7")).toBe("203.0.113.7");
    expect(limitKeyOf("::ffff:203.0.113.7")).toBe("::ffff:203.0.113.7");
    expect(limitKeyOf("in-process")).toBe("in-process");
  });
});
