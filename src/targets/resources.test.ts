import { describe, expect, it } from "vitest";
import { isCboError } from "../kit/errors.ts";
import { checkJurisdiction, placeResource, refKey } from "./resources.ts";

const res = (kind: "kv" | "d1" | "r2" | "queue", jurisdiction?: string) => ({
  kind,
  name: "x",
  nameFrom: "spec" as const,
  ...(jurisdiction ? { jurisdiction } : {}),
});

describe("placeResource", () => {
  it("puts D1 and R2 in the target's jurisdiction where Cloudflare offers it, and says why not otherwise", () => {
    expect(placeResource(res("d1"), { name: "eu", jurisdiction: "eu" })).toEqual({ ref: { kind: "d1", name: "x", jurisdiction: "eu" } });
    expect(placeResource(res("d1"), { name: "us", jurisdiction: "us" }).ref.jurisdiction).toBe("us");
    expect(placeResource(res("r2"), { name: "eu", jurisdiction: "eu" }).ref.jurisdiction).toBe("eu");
    const r2us = placeResource(res("r2"), { name: "us", jurisdiction: "us" });
    expect(r2us.ref.jurisdiction).toBeUndefined();
    expect(r2us.note).toBe("no jurisdiction: Cloudflare offers no us jurisdiction for R2 buckets (only eu, fedramp)");
    expect(placeResource(res("kv"), { name: "eu", jurisdiction: "eu" }).note).toBe(
      "no jurisdiction: Cloudflare has none for KV namespaces",
    );
    expect(placeResource(res("queue"), { name: "plain" })).toEqual({ ref: { kind: "queue", name: "x" } });
  });

  it("uses the resource's own jurisdiction in a target without one, and refuses a contradiction", () => {
    expect(placeResource(res("r2", "eu"), { name: "plain" }).ref.jurisdiction).toBe("eu");
    expect(placeResource(res("r2", "eu"), { name: "ap", jurisdiction: "ap" }).ref.jurisdiction).toBe("eu");
    const e = (() => {
      try {
        placeResource(res("r2", "eu"), { name: "fed", jurisdiction: "fedramp" });
      } catch (err) {
        return err;
      }
    })();
    expect(isCboError(e) && e.code).toBe("ERR_VALIDATION");
    expect((e as Error).message).toBe('R2 bucket "x" names jurisdiction eu, but target fed keeps its data in fedramp.');
  });

  it("keys R2 buckets by jurisdiction (one name may exist in each)", () => {
    expect(refKey({ kind: "r2", name: "b", jurisdiction: "eu" })).not.toBe(refKey({ kind: "r2", name: "b" }));
  });
});

describe("checkJurisdiction", () => {
  it("refuses a D1 database found outside the jurisdiction the target wants", () => {
    expect(() => checkJurisdiction("eu", { kind: "d1", name: "sites", jurisdiction: "eu" }, { id: "u", jurisdiction: "eu" })).not.toThrow();
    expect(() => checkJurisdiction("eu", { kind: "d1", name: "sites", jurisdiction: "eu" }, { id: "u", jurisdiction: null })).toThrow(
      'D1 database "sites" in target eu is in no jurisdiction, but the target wants jurisdiction eu.',
    );
    expect(() => checkJurisdiction("x", { kind: "kv", name: "k" }, { id: "u", jurisdiction: "eu" })).not.toThrow();
  });
});
