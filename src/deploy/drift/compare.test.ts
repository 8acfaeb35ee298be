// compareTarget and transition: desired against observed for one worker on one target.
import { describe, expect, it } from "vitest";
import { compareTarget, diffBindings, sameSplit, transition, type CatalogFacts, type CompareInput, type VersionFacts } from "./compare.ts";

const full = (versionId: string) => [{ versionId, percentage: 100 }];
const ours: VersionFacts = {
  bindings: [
    { name: "GREETING", type: "plain_text" },
    { name: "HELLO_KV", type: "kv_namespace" },
    { name: "API_KEY", type: "secret_text" },
  ],
  compatibilityDate: "2025-01-01",
  compatibilityFlags: [],
};

type Over = Partial<Omit<CompareInput, "facts">> & {
  facts?: Record<string, VersionFacts | "missing">;
  known?: Record<string, CatalogFacts>;
};

function input(over: Over = {}): CompareInput {
  const { facts = {}, known = {}, ...rest } = over;
  return {
    desired: full("v2"),
    observed: full("v2"),
    facts: (id) => facts[id],
    catalog: (id) => known[id] ?? { known: false, secrets: null },
    spec: { compatibilityDate: "2025-01-01", compatibilityFlags: [] },
    ...rest,
  };
}

describe("compareTarget", () => {
  it("in sync when the live split is the desired one, in any order", () => {
    const v = compareTarget(
      input({
        desired: [
          { versionId: "a", percentage: 90 },
          { versionId: "b", percentage: 10 },
        ],
        observed: [
          { versionId: "b", percentage: 10 },
          { versionId: "a", percentage: 90 },
        ],
      }),
    );
    expect(v).toEqual({ drifted: false, kinds: [], differences: [], detail: "serves the desired versions", signature: null });
  });

  it("a version deployed behind our back: code, unknown version, bindings and settings, names only", () => {
    const wrangler: VersionFacts = {
      bindings: [
        { name: "GREETING", type: "secret_text" },
        { name: "EXTRA", type: "plain_text" },
      ],
      compatibilityDate: "2024-06-01",
      compatibilityFlags: ["nodejs_compat"],
    };
    const v = compareTarget(
      input({
        observed: full("x9abcdef0"),
        facts: { v2: ours, x9abcdef0: wrangler },
        known: { v2: { known: true, secrets: { API_KEY: 3 } } },
      }),
    );
    expect(v.drifted).toBe(true);
    expect(v.kinds).toEqual(["code", "unknown_version", "bindings", "settings"]);
    expect(v.differences).toContainEqual({
      kind: "bindings",
      versionId: "x9abcdef0",
      added: [{ name: "EXTRA", type: "plain_text" }],
      removed: [
        { name: "API_KEY", type: "secret_text" },
        { name: "HELLO_KV", type: "kv_namespace" },
      ],
      changed: [{ name: "GREETING", desired: "plain_text", observed: "secret_text" }],
    });
    expect(v.differences).toContainEqual({
      kind: "settings",
      versionId: "x9abcdef0",
      setting: "compatibility_date",
      desired: "2025-01-01",
      observed: "2024-06-01",
      against: "desired version",
    });
    expect(v.detail).toBe(
      "serves x9abcdef 100% instead of v2 100%; x9abcdef was not uploaded by the orchestrator (unknown version); " +
        "bindings of x9abcdef: +EXTRA (plain_text), -API_KEY (secret_text), -HELLO_KV (kv_namespace), GREETING plain_text -> secret_text; " +
        "compatibility_date of x9abcdef: 2024-06-01 (desired version: 2025-01-01); compatibility_flags of x9abcdef: nodejs_compat (desired version: (none))",
    );
  });

  it("a secret put by hand is a bindings drift naming the binding", () => {
    const withSecret: VersionFacts = { ...ours, bindings: [...ours.bindings, { name: "HAND_SET", type: "secret_text" }] };
    const v = compareTarget(input({ observed: full("s1"), facts: { v2: ours, s1: withSecret } }));
    expect(v.kinds).toEqual(["code", "unknown_version", "bindings"]);
    expect(v.detail).toContain("+HAND_SET (secret_text)");
  });

  it("one of our own older versions put back by hand: code and the secret versions it ships", () => {
    const v = compareTarget(
      input({
        observed: full("v1"),
        facts: { v1: ours, v2: ours },
        known: { v1: { known: true, secrets: { API_KEY: 2, OLD: 1 } }, v2: { known: true, secrets: { API_KEY: 3 } } },
      }),
    );
    expect(v.kinds).toEqual(["code", "secrets"]);
    expect(v.differences).toContainEqual({
      kind: "secrets",
      versionId: "v1",
      secrets: [
        { name: "API_KEY", desired: 3, observed: 2 },
        { name: "OLD", desired: null, observed: 1 },
      ],
    });
  });

  it("settings against the spec when the desired version cannot be read; nothing compared where the API says nothing", () => {
    const live: VersionFacts = { bindings: [], compatibilityDate: "2024-01-01", compatibilityFlags: null };
    const v = compareTarget(input({ observed: full("x"), facts: { v2: "missing", x: live } }));
    expect(v.differences).toContainEqual({
      kind: "settings",
      versionId: "x",
      setting: "compatibility_date",
      desired: "2025-01-01",
      observed: "2024-01-01",
      against: "spec",
    });
    expect(v.kinds).not.toContain("bindings");
    expect(v.differences.filter((d) => d.kind === "settings")).toHaveLength(1);
  });

  it("a split changed by hand, and a Worker deleted by hand", () => {
    const split = compareTarget(
      input({
        observed: [
          { versionId: "v2", percentage: 50 },
          { versionId: "v1", percentage: 50 },
        ],
        known: { v1: { known: true, secrets: null } },
      }),
    );
    expect(split.kinds).toEqual(["code"]);
    expect(split.detail).toBe("serves v2 50% + v1 50% instead of v2 100%");
    const gone = compareTarget(input({ observed: [] }));
    expect(gone.detail).toBe("serves nothing instead of v2 100%");
  });

  it("config lag is drift of its own, with or without code drift", () => {
    const v = compareTarget(input({ configLag: { desired: 4, applied: 3 } }));
    expect(v).toMatchObject({ drifted: true, kinds: ["config"], detail: "config v3 applied, v4 published" });
  });

  it("diffBindings and sameSplit", () => {
    expect(diffBindings(ours.bindings, ours.bindings)).toEqual({ added: [], removed: [], changed: [] });
    expect(sameSplit(full("a"), full("a"))).toBe(true);
    expect(
      sameSplit(full("a"), [
        { versionId: "a", percentage: 50 },
        { versionId: "b", percentage: 50 },
      ]),
    ).toBe(false);
  });
});

describe("transition", () => {
  const drift = (observed: string, kinds: CompareInput["desired"] = []) =>
    compareTarget(input({ observed: full(observed), desired: kinds.length ? kinds : full("v2") }));
  it("detected on a new drift or a different one, resolved once it is gone, nothing otherwise", () => {
    const a = drift("x1");
    const b = drift("x2");
    const ok = drift("v2");
    expect(transition(undefined, ok)).toBeUndefined();
    expect(transition(undefined, a)).toBe("detected");
    expect(transition({ drifted: false, signature: null }, a)).toBe("detected");
    expect(transition({ drifted: true, signature: a.signature }, a)).toBeUndefined();
    expect(transition({ drifted: true, signature: a.signature }, b)).toBe("detected");
    expect(transition({ drifted: true, signature: a.signature }, ok)).toBe("resolved");
    expect(transition({ drifted: false, signature: null }, ok)).toBeUndefined();
  });
});
