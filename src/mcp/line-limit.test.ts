import { describe, expect, it } from "vitest";
import { type DroppedLine, droppedAnswer, lineLimit } from "./line-limit.ts";

/** Feeds `chunks` through a limit of `max` bytes: the lines passed on and the ones dropped. */
async function through(max: number, chunks: string[]): Promise<{ out: string; dropped: DroppedLine[] }> {
  const dropped: DroppedLine[] = [];
  const t = lineLimit(max, (d) => dropped.push(d));
  let out = "";
  t.on("data", (b: Buffer) => (out += b.toString("utf8")));
  const ended = new Promise((resolve) => t.on("end", resolve));
  for (const c of chunks) t.write(Buffer.from(c));
  t.end();
  await ended;
  return { out, dropped };
}

describe("lineLimit", () => {
  it("passes lines on whole, however they are cut into chunks", async () => {
    expect(await through(100, ['{"a":', '1}\n{"b"', ":2}\n", '{"c":3}'])).toEqual({ out: '{"a":1}\n{"b":2}\n{"c":3}', dropped: [] });
  });

  it("drops a line over the limit, with its size and id (from either end), and goes on with the next", async () => {
    const big = `{"jsonrpc":"2.0","id":7,"params":"${"x".repeat(500)}"}\n`;
    const idLast = `{"params":"${"y".repeat(500)}","id":"req-9"}\n`;
    const r = await through(100, ['{"ok":1}\n', big.slice(0, 50), big.slice(50), idLast, '{"ok":2}\n']);
    expect(r.out).toBe('{"ok":1}\n{"ok":2}\n');
    expect(r.dropped).toEqual([
      { bytes: big.length, id: 7 },
      { bytes: idLast.length, id: "req-9" },
    ]);
    expect(JSON.parse(droppedAnswer(r.dropped[0]!, 100))).toMatchObject({ jsonrpc: "2.0", id: 7, error: { code: -32600 } });
  });
});
