// The canonical JSON that audit hashes and checkpoint signatures are computed over. One spelling
// per value, so that a verifier in any language rebuilds the exact bytes:
//
//   - objects: members sorted by key in UTF-16 code-unit order (JavaScript's default sort, the
//     order RFC 8785 "JCS" uses), every member present (no `undefined`), no whitespace anywhere;
//   - strings: as JSON.stringify writes them (minimal escapes, lone surrogates as \udxxx);
//   - numbers: finite only, as JSON.stringify writes them (ECMAScript shortest round-trip, -0 as 0);
//   - true, false, null; arrays in order.
// Encoded as UTF-8 before hashing or signing. For the values we allow this is exactly JCS.
import { CboError } from "../kit/errors.ts";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export function canonicalJson(value: unknown): string {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "boolean":
      return value ? "true" : "false";
    case "number":
      if (!Number.isFinite(value)) throw notCanonical("a number that is not finite");
      return JSON.stringify(value);
    case "object": {
      if (value === null) return "null";
      if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) throw notCanonical("an object that is not plain JSON");
      const obj = value as Record<string, unknown>;
      const parts: string[] = [];
      for (const key of Object.keys(obj).sort()) parts.push(`${JSON.stringify(key)}:${canonicalJson(obj[key])}`);
      return `{${parts.join(",")}}`;
    }
    default:
      throw notCanonical(`a value of type ${typeof value}`);
  }
}

const notCanonical = (what: string) => new CboError("ERR_VALIDATION", `Audit data must be plain JSON; found ${what}.`);
