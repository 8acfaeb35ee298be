// The "v8" content type of queue messages, as text the edge can store: Cloudflare serializes such
// bodies with V8's structured-clone serializer, which a Worker cannot reach. This codec keeps what
// structured clone keeps (undefined, NaN/±Infinity/-0, BigInt, Date, RegExp, Map, Set, ArrayBuffer,
// typed arrays, DataView, Error, and shared or cyclic references) and refuses what it refuses
// (functions, symbols) with the same DataCloneError. Every value is a JSON value or a tagged
// array [tag, ...], and every array or object is tagged, so no user data can pass for a tag.
// Runs in the producer's isolate (encode) and in the router (decode).

type Encoded = null | boolean | number | string | Encoded[];

const TYPED: Record<string, new (b: ArrayBuffer) => ArrayBufferView> = {
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
  DataView: DataView as unknown as new (b: ArrayBuffer) => ArrayBufferView,
};

const ERRORS: Record<string, ErrorConstructor> = { Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError };

function toB64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}
function fromB64(b64: string): ArrayBuffer {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out.buffer;
}

function dataCloneError(what: string): Error {
  const e = new Error(`${what} could not be cloned.`);
  e.name = "DataCloneError";
  return e;
}

export function encodeV8(value: unknown): string {
  const seen = new Map<object, number>();
  const enc = (v: unknown): Encoded => {
    if (v === null || typeof v === "boolean" || typeof v === "string") return v;
    if (typeof v === "number") {
      if (Number.isNaN(v)) return ["n", "NaN"];
      if (v === Infinity) return ["n", "Infinity"];
      if (v === -Infinity) return ["n", "-Infinity"];
      if (Object.is(v, -0)) return ["n", "-0"];
      return v;
    }
    if (v === undefined) return ["u"];
    if (typeof v === "bigint") return ["b", v.toString()];
    if (typeof v === "function") throw dataCloneError(String(v).slice(0, 40));
    if (typeof v === "symbol") throw dataCloneError(String(v));
    const o = v as object;
    const ref = seen.get(o);
    if (ref !== undefined) return ["r", ref];
    const id = seen.size;
    seen.set(o, id);
    if (o instanceof Date) return ["D", id, o.getTime()];
    if (o instanceof RegExp) return ["R", id, o.source, o.flags];
    if (o instanceof ArrayBuffer) return ["B", id, toB64(new Uint8Array(o))];
    if (ArrayBuffer.isView(o)) {
      const bytes = new Uint8Array(o.buffer, o.byteOffset, o.byteLength);
      return ["T", id, o.constructor.name, toB64(bytes)];
    }
    if (o instanceof Map) return ["M", id, [...o].map(([k, val]) => [enc(k), enc(val)] as Encoded)];
    if (o instanceof Set) return ["S", id, [...o].map(enc)];
    if (o instanceof Error) return ["E", id, o.name, o.message, o.stack ?? ""];
    if (Array.isArray(o)) return ["A", id, o.map(enc)];
    return ["O", id, Object.keys(o).map((k) => [k, enc((o as Record<string, unknown>)[k])] as Encoded)];
  };
  return JSON.stringify(enc(value));
}

export function decodeV8(text: string): unknown {
  const refs = new Map<number, unknown>();
  const dec = (e: Encoded): unknown => {
    if (!Array.isArray(e)) return e;
    const [tag, ...rest] = e as [string, ...Encoded[]];
    switch (tag) {
      case "n":
        return rest[0] === "NaN" ? NaN : rest[0] === "Infinity" ? Infinity : rest[0] === "-Infinity" ? -Infinity : -0;
      case "u":
        return undefined;
      case "b":
        return BigInt(rest[0] as string);
      case "r":
        return refs.get(rest[0] as number);
    }
    const id = rest[0] as number;
    const keep = <T>(v: T): T => (refs.set(id, v), v);
    switch (tag) {
      case "D":
        return keep(new Date(rest[1] as number));
      case "R":
        return keep(new RegExp(rest[1] as string, rest[2] as string));
      case "B":
        return keep(fromB64(rest[1] as string));
      case "T": {
        const Ctor = TYPED[rest[1] as string] ?? Uint8Array;
        return keep(new Ctor(fromB64(rest[2] as string)));
      }
      case "E": {
        const Ctor = ERRORS[rest[1] as string];
        const err = keep(new (Ctor ?? Error)(rest[2] as string));
        if (!Ctor) err.name = rest[1] as string;
        if (rest[3]) err.stack = rest[3] as string;
        return err;
      }
      case "M": {
        const m = keep(new Map());
        for (const pair of rest[1] as Encoded[][]) m.set(dec(pair[0]!), dec(pair[1]!));
        return m;
      }
      case "S": {
        const s = keep(new Set());
        for (const x of rest[1] as Encoded[]) s.add(dec(x));
        return s;
      }
      case "A": {
        const a = keep([] as unknown[]);
        for (const x of rest[1] as Encoded[]) a.push(dec(x));
        return a;
      }
      case "O": {
        const obj = keep({} as Record<string, unknown>);
        for (const pair of rest[1] as Encoded[][]) obj[pair[0] as string] = dec(pair[1]!);
        return obj;
      }
      default:
        throw new Error(`Unknown tag "${tag}" in a v8 queue message.`);
    }
  };
  return dec(JSON.parse(text) as Encoded);
}
