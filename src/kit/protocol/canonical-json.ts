// Canonical JSON for what is hashed or signed (config bundles, audit entries and checkpoints): one
// spelling per value, so the bytes the signer signs are the bytes any verifier rebuilds. Members
// sorted by key (UTF-16 code units, as RFC 8785 "JCS" does), no whitespace, finite numbers only,
// plain objects only.
import { CboError } from "../errors.ts";

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
      for (const key of Object.keys(obj).sort()) {
        if (obj[key] === undefined) throw notCanonical(`an undefined member "${key}"`);
        parts.push(`${JSON.stringify(key)}:${canonicalJson(obj[key])}`);
      }
      return `{${parts.join(",")}}`;
    }
    default:
      throw notCanonical(`a value of type ${typeof value}`);
  }
}

const notCanonical = (what: string) => new CboError("ERR_VALIDATION", `Signed or hashed data must be plain JSON; found ${what}.`);
