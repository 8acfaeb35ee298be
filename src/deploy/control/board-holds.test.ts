// The control board over a real SQLite file: what people said survives a restart (a second board
// opened on the same file, as a restarted daemon's), a timed pause ends when it would have, and a
// write the store refuses changes nothing.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createStore } from "../../store/index.ts";
import { createControlBoard, type WaitHooks } from "./board.ts";

const quiet: WaitHooks = { started() {}, ended() {} };
const file = () => join(mkdtempSync(join(tmpdir(), "cbo-holds-")), "orchestrator.sqlite");

describe("the control board kept in the store", () => {
  it("a pause and an approval survive a second board on the same file; an approved target passes at once", async () => {
    const path = file();
    const first = createStore(path);
    const board = createControlBoard(first.holds);
    board.open("r1");
    const never = new AbortController();
    const waiting = board.pauseStep("r1", { target: "eu", percent: 50, key: "0:0" }, never.signal, quiet);
    await new Promise((r) => setTimeout(r, 10));
    board.pause("r1", "ops");
    expect(board.promote("r1", "lead").targets).toEqual(["eu"]);
    await waiting;
    first.close();

    const again = createStore(path);
    try {
      const restarted = createControlBoard(again.holds);
      restarted.open("r1");
      expect(restarted.view("r1")).toMatchObject({ paused: true, pausedBy: "ops" });
      // Approved before the restart: the same approval does not wait again.
      await restarted.pauseStep("r1", { target: "eu", percent: 50, key: "0:0" }, never.signal, quiet);
      expect(again.holds.get("r1")).toEqual({ paused: true, pausedBy: "ops", granted: { "0:0": "lead" }, timers: {} });
      restarted.resume("r1", "ops");
      expect(again.holds.get("r1")?.paused).toBe(false);
      // A release never held: nothing stored, nothing to pick up.
      restarted.open("r2");
      expect(restarted.view("r2")).toMatchObject({ paused: false, waiting: [] });
    } finally {
      again.close();
    }
  });

  it("a timed pause begun before a restart ends when it would have, not a whole pause later", async () => {
    const path = file();
    const first = createStore(path);
    const board = createControlBoard(first.holds);
    board.open("r1");
    const stop = new AbortController();
    const cut = board.pauseStep("r1", { target: "eu", percent: 10, key: "0:1", ms: 1500 }, stop.signal, quiet).catch(() => "cut");
    await new Promise((r) => setTimeout(r, 10));
    const end = first.holds.get("r1")!.timers["0:1/eu"]!;
    expect(end).toBeGreaterThan(Date.now());
    stop.abort();
    expect(await cut).toBe("cut");
    first.close();
    // Down for a second: a pause started over would end a second after the one begun before.
    await new Promise((r) => setTimeout(r, 1000));

    const again = createStore(path);
    try {
      const restarted = createControlBoard(again.holds);
      restarted.open("r1");
      await restarted.pauseStep("r1", { target: "eu", percent: 10, key: "0:1", ms: 1500 }, new AbortController().signal, quiet);
      // It ended at the end set before the restart (a fresh 1.5 s would end about a second later).
      expect(Date.now()).toBeGreaterThanOrEqual(end);
      expect(Date.now()).toBeLessThan(end + 700);
    } finally {
      again.close();
    }
  });

  it("a pause the store cannot keep is refused and changes nothing", () => {
    const store = createStore(file());
    try {
      const board = createControlBoard(store.holds);
      board.open("r1");
      store.db.exec("DROP TABLE release_holds");
      expect(() => board.pause("r1", "ops")).toThrow(/release_holds/);
      expect(board.view("r1").paused).toBe(false);
    } finally {
      store.close();
    }
  });
});
