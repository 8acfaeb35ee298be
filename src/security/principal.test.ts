import { describe, expect, it } from "vitest";
import { actorOf, createdByOf } from "./principal.ts";

describe("createdByOf", () => {
  it("a token actor: its name to show, its id apart (names may hold colons and spaces)", () => {
    const actor = actorOf({ id: "tok_9", name: "ci: deploy bot", role: "deployer", tenant: null });
    expect(createdByOf(actor)).toEqual({ createdBy: "ci: deploy bot", createdByToken: "tok_9" });
  });

  it("any other actor, or none, as it is", () => {
    expect(createdByOf("daemon")).toEqual({ createdBy: "daemon", createdByToken: null });
    expect(createdByOf(null)).toEqual({ createdBy: null, createdByToken: null });
  });
});
