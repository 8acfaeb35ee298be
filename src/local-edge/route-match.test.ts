import { describe, expect, it } from "vitest";
import { compileRoutes, matchRoute, versionForObject } from "./workers/routing.ts";

describe("Workers routes", () => {
  const routes = compileRoutes([
    { pattern: "example.com/*", script: "site" },
    { pattern: "example.com/api/*", script: "api" },
    { pattern: "*.example.com/*", script: "subs" },
    { pattern: "https://exact.example.com/only", script: "exact" },
    { pattern: "*example.org/*", script: "org" },
  ]);
  it("picks the most specific route: exact host, then longer path", () => {
    expect(matchRoute(routes, "example.com", "/api/users")).toBe("api");
    expect(matchRoute(routes, "example.com:8781", "/")).toBe("site");
    expect(matchRoute(routes, "shop.example.com", "/x")).toBe("subs");
    expect(matchRoute(routes, "exact.example.com", "/only")).toBe("exact");
    expect(matchRoute(routes, "exact.example.com", "/other")).toBe("subs");
  });
  it("honours the leading-wildcard forms", () => {
    expect(matchRoute(routes, "example.org", "/")).toBe("org");
    expect(matchRoute(routes, "www.example.org", "/")).toBe("org");
    expect(matchRoute(routes, "example.net", "/")).toBeUndefined();
  });
});

describe("versionForObject", () => {
  const entries = [
    { version_id: "a", percentage: 50 },
    { version_id: "b", percentage: 50 },
  ];
  it("always gives an object the same version, and spreads objects over the split", () => {
    const ids = Array.from({ length: 200 }, (_, i) => ((i * 2654435761) >>> 0).toString(16).padStart(8, "0") + "0".repeat(56));
    for (const id of ids) expect(versionForObject(entries, id)).toBe(versionForObject(entries, id));
    const a = ids.filter((id) => versionForObject(entries, id) === "a").length;
    expect(a).toBeGreaterThan(60);
    expect(a).toBeLessThan(140);
  });
});
