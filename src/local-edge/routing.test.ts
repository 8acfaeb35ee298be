import { describe, expect, it } from "vitest";
import { chooseVersion, overrideFor, pickVersion, scriptFromHost } from "./workers/routing.ts";

describe("scriptFromHost", () => {
  it("reads the Worker name from localhost and workers.dev hosts", () => {
    expect(scriptFromHost("api.localhost:8781", "eu-local")).toEqual({ script: "api" });
    expect(scriptFromHost("API.localhost", "eu-local")).toEqual({ script: "api" });
    expect(scriptFromHost("api.eu-local.workers.dev", "eu-local")).toEqual({ script: "api" });
    expect(scriptFromHost("api.other.workers.dev", "eu-local")).toEqual({ script: "api" });
  });
  it("recognises preview hosts", () => {
    expect(scriptFromHost("0a1b2c3d-api.eu-local.workers.dev", "eu-local")).toEqual({ script: "api", preview: "0a1b2c3d" });
  });
  it("answers nothing for bare hosts", () => {
    expect(scriptFromHost("127.0.0.1:8781", "eu-local")).toBeUndefined();
    expect(scriptFromHost("localhost:8781", "eu-local")).toBeUndefined();
    expect(scriptFromHost("example.com", "eu-local")).toBeUndefined();
  });
});

describe("overrideFor", () => {
  it("parses the structured-header dictionary", () => {
    const h = 'other="1111", api="2222-3333"';
    expect(overrideFor(h, "api")).toBe("2222-3333");
    expect(overrideFor(h, "other")).toBe("1111");
    expect(overrideFor(h, "missing")).toBeUndefined();
    expect(overrideFor(null, "api")).toBeUndefined();
    expect(overrideFor("garbage", "api")).toBeUndefined();
  });
});

describe("pickVersion / chooseVersion", () => {
  const split = [
    { version_id: "a", percentage: 90 },
    { version_id: "b", percentage: 10 },
  ];
  it("splits by percentage over the unit interval", () => {
    expect(pickVersion(split, 0)).toBe("a");
    expect(pickVersion(split, 0.8999)).toBe("a");
    expect(pickVersion(split, 0.9)).toBe("b");
    expect(pickVersion(split, 0.99999)).toBe("b");
    let b = 0;
    for (let i = 0; i < 1000; i++) if (pickVersion(split, i / 1000) === "b") b++;
    expect(b).toBe(100);
  });
  it("never picks a 0% version", () => {
    const zero = [
      { version_id: "a", percentage: 100 },
      { version_id: "b", percentage: 0 },
    ];
    for (let i = 0; i < 100; i++) expect(pickVersion(zero, i / 100)).toBe("a");
  });
  it("honours an override only for a live version, and preview prefixes", () => {
    expect(chooseVersion(split, { override: "b", random: 0 })).toBe("b");
    expect(chooseVersion(split, { override: "not-live", random: 0 })).toBe("a");
    expect(chooseVersion([{ version_id: "abcdef12-0000", percentage: 100 }], { preview: "abcdef12", random: 0 })).toBe("abcdef12-0000");
    expect(chooseVersion(split, { preview: "zzzzzzzz", random: 0 })).toBeUndefined();
  });
});
