import { describe, expect, it } from "vitest";
import { checkBindings, KNOWN_BINDING_KINDS } from "./bindings.ts";
import { CfApiError } from "./envelope.ts";
import type { Binding } from "../state/model.ts";
import { EVERY_KIND } from "../../../test/support/every-binding.ts";

const refusal = (bindings: Binding[]) => {
  try {
    checkBindings(bindings);
  } catch (e) {
    expect(e).toBeInstanceOf(CfApiError);
    return e as CfApiError;
  }
  throw new Error("expected the bindings to be refused");
};

describe("checkBindings", () => {
  it("accepts every kind wrangler sends, in its shape", () => {
    expect(() => checkBindings(EVERY_KIND)).not.toThrow();
    const covered = new Set(EVERY_KIND.map((b) => b.type));
    for (const k of KNOWN_BINDING_KINDS.filter((k) => !["secret_key", "vpc_network"].includes(k))) expect(covered, k).toContain(k);
  });
  it("refuses a binding missing its resource field, naming binding and field (10021)", () => {
    const e = refusal([{ type: "r2_bucket", name: "R2" }]);
    expect(e.code).toBe(10021);
    expect(e.message).toContain('Binding "R2" (r2_bucket)');
    expect(e.message).toContain("bucket_name");
    expect(refusal([{ type: "ratelimit", name: "RL", namespace_id: "1", simple: { limit: 1, period: 30 } }]).message).toContain(
      "simple.period",
    );
    expect(refusal([{ type: "r2_bucket", name: "R2", bucket_name: "b", jurisdiction: "mars" }]).message).toContain("jurisdiction");
  });
  it("words a d1 binding without id as Cloudflare does (wrangler explains that text)", () => {
    expect(refusal([{ type: "d1", name: "DB" }]).message).toBe("binding DB of type d1 must have a valid `id` specified");
  });
  it("refuses unknown kinds, service-worker-only kinds and duplicate names", () => {
    expect(refusal([{ type: "teleporter", name: "T" }]).message).toContain('unknown type "teleporter"');
    expect(refusal([{ type: "text_blob", name: "T", part: "T" }]).message).toContain("service-worker");
    expect(
      refusal([
        { type: "plain_text", name: "A", text: "1" },
        { type: "json", name: "A", json: 1 },
      ]).message,
    ).toContain("used twice");
  });
});
