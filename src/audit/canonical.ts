// The canonical JSON that audit hashes and checkpoint signatures are computed over. One spelling
// per value, so that a verifier in any language rebuilds the exact bytes:
//
//   - objects: members sorted by key in UTF-16 code-unit order (JavaScript's default sort, the
//     order RFC 8785 "JCS" uses), every member present (no `undefined`), no whitespace anywhere;
//   - strings: as JSON.stringify writes them (minimal escapes, lone surrogates as \udxxx);
//   - numbers: finite only, as JSON.stringify writes them (ECMAScript shortest round-trip, -0 as 0);
//   - true, false, null; arrays in order.
// Encoded as UTF-8 before hashing or signing. For the values we allow this is exactly JCS.
// The rules are the kit's (src/kit/protocol/canonical-json.ts), shared with the config bundles the
// edge agent verifies: one implementation, so the two can never spell a value differently.
export { canonicalJson } from "../kit/protocol/canonical-json.ts";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
