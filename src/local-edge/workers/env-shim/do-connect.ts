// `stub.connect(address)` on a Durable Object stub: workerd hands the object's `connect(socket)`
// handler the socket (workers-types: `DurableObject.connect?(socket: Socket)`, and stubs keep
// `connect` off RPC; plain workerd does it, checked against it in test/edge-durable-objects.test.ts).
// Whether Cloudflare's edge delivers connect events to Durable Objects is unconfirmed.
//
// The socket travels loaded Worker -> DoGateway -> DoHost -> the object's facet, and a connect()
// carries nothing but an address, which the handler reads back as `socket.opened.localAddress`.
// So the first two hops connect to a made-up address naming the object and the caller's address:
// `cbo-do.<namespace>.<object id>.<hex of the caller's address>:1`. workerd refuses addresses
// past about 255 characters, so a caller's address here may have 70 (longer ones are refused in
// workerd's words; unconfirmed whether Cloudflare would take them).
export type Hop = { ns: string; id: string; address: string };

const hex = (text: string) => Array.from(new TextEncoder().encode(text), (b) => b.toString(16).padStart(2, "0")).join("");

/** The address a hop connects to. */
export function hopAddress(hop: Hop): string {
  return `cbo-do.${hop.ns}.${hop.id}.${hex(hop.address)}:1`;
}

/** The hop of hopAddress(); undefined for any other address. */
export function hopOf(address: string | undefined): Hop | undefined {
  const m = /^cbo-do\.([0-9a-f]+)\.([0-9a-f]{64})\.((?:[0-9a-f]{2})+):1$/.exec(address ?? "");
  if (!m) return undefined;
  const bytes = new Uint8Array(m[3]!.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Number.parseInt(m[3]!.slice(i * 2, i * 2 + 2), 16);
  return { ns: m[1]!, id: m[2]!, address: new TextDecoder().decode(bytes) };
}

/** `address` as the user gave it (a string or a SocketAddress), as "host:port". */
export function addressText(address: unknown): string {
  if (typeof address === "string") return address;
  const a = address as { hostname?: unknown; port?: unknown } | null;
  return `${String(a?.hostname)}:${String(a?.port)}`;
}

type Duplex = { readable: ReadableStream; writable: WritableStream };

/** Joins two sockets both ways until both directions end (an end closes the other side's writer). */
export async function splice(a: Duplex, b: Duplex): Promise<void> {
  await Promise.allSettled([a.readable.pipeTo(b.writable), b.readable.pipeTo(a.writable)]);
}

/**
 * The byte DoHost sends first once the object's handler took the socket. The caller's socket
 * resolves `opened` only then: otherwise the first hop's handler, which always exists, would open
 * every socket, where workerd fails the socket of an object without a connect() handler.
 */
export const CONNECTED = 1;
/** workerd's words for a socket whose object has no connect() handler. */
export const NOT_CONNECTED =
  "proxy request failed, cannot connect to the specified address. It looks like you might be trying to connect to a HTTP-based service — consider using fetch instead";

/** The caller's view of a hop socket: opened once CONNECTED arrives, at `address`, and without that byte. */
export function callerSocket(socket: Socket, address: string): Socket {
  const reader = socket.readable.getReader();
  const rest = new TransformStream<Uint8Array, Uint8Array>();
  const writer = rest.writable.getWriter();
  const head = (async () => {
    const first = await reader.read().catch(() => ({ done: true as const, value: undefined }));
    if (first.done || first.value?.[0] !== CONNECTED) {
      reader.cancel().catch(() => {});
      await writer.close().catch(() => {});
      throw new Error(NOT_CONNECTED);
    }
    return first.value.subarray(1);
  })();
  head
    .then(async (bytes) => {
      if (bytes.length > 0) await writer.write(bytes);
      for (;;) {
        const next = await reader.read();
        if (next.done) break;
        await writer.write(next.value);
      }
      await writer.close();
    })
    .catch((e) => writer.abort(e).catch(() => {}));
  const opened = head.then(async () => ({ ...(await socket.opened), remoteAddress: address }));
  const closed = head.then(() => socket.closed);
  opened.catch(() => {});
  closed.catch(() => {});
  return new Proxy(socket, {
    get(s, prop) {
      if (prop === "opened") return opened;
      if (prop === "closed") return closed;
      if (prop === "readable") return rest.readable;
      const v = (s as unknown as Record<string | symbol, unknown>)[prop];
      return typeof v === "function" ? v.bind(s) : v;
    },
  });
}
