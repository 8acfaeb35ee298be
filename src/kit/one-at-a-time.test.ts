import { describe, expect, it } from "vitest";
import { oneAtATime } from "./one-at-a-time.ts";

/** A promise and the functions that settle it, so a test decides when work ends. */
function gate() {
  let open!: () => void;
  let fail!: (e: Error) => void;
  const p = new Promise<void>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  return { p, open, fail };
}

const ticks = () => new Promise((r) => setImmediate(r));

describe("oneAtATime", () => {
  it("starts a key's next work only once the one before has settled, even when it failed; other keys run meanwhile", async () => {
    const serial = oneAtATime();
    const log: string[] = [];
    const first = gate();
    const second = gate();
    const a1 = serial("a", async () => {
      log.push("a1 start");
      await first.p;
      log.push("a1 end");
      return 1;
    });
    const a2 = serial("a", async () => {
      log.push("a2 start");
      await second.p;
      return 2;
    });
    const b1 = serial("b", async () => {
      log.push("b1 start");
      return 3;
    });
    await ticks();
    expect(log).toEqual(["a1 start", "b1 start"]);
    expect(await b1).toBe(3);
    first.fail(new Error("write failed"));
    await expect(a1).rejects.toThrow("write failed");
    await ticks();
    expect(log).toEqual(["a1 start", "b1 start", "a2 start"]);
    second.open();
    expect(await a2).toBe(2);
    // Settled keys leave nothing behind, and a key used again starts at once.
    const again = serial("a", async () => "now");
    expect(await again).toBe("now");
  });
});
