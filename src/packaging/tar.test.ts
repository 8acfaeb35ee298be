import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { tarGz } from "./tar.ts";

type Header = { path: string; mode: number; size: number; type: string; mtime: number; checksumOk: boolean };

/** Reads the archive back block by block (the ustar layout, independently of tar.ts). */
function readTar(gz: Uint8Array): { entries: Array<Header & { data: string }>; trailer: number } {
  const buf = Buffer.from(gunzipSync(gz));
  const str = (o: number, n: number) =>
    buf
      .subarray(o, o + n)
      .toString("utf8")
      .replace(/\0.*$/s, "");
  const entries: Array<Header & { data: string }> = [];
  let at = 0;
  while (at < buf.length && buf.subarray(at, at + 512).some((b) => b !== 0)) {
    const h = buf.subarray(at, at + 512);
    const sum = h.reduce((a, b, i) => a + (i >= 148 && i < 156 ? 32 : b), 0);
    const name = str(at, 100);
    const prefix = str(at + 345, 155);
    const size = parseInt(str(at + 124, 12), 8);
    entries.push({
      path: prefix ? `${prefix}/${name}` : name,
      mode: parseInt(str(at + 100, 8), 8),
      size,
      type: str(at + 156, 1),
      mtime: parseInt(str(at + 136, 12), 8),
      checksumOk: parseInt(str(at + 148, 8), 8) === sum,
      data: buf.subarray(at + 512, at + 512 + size).toString("utf8"),
    });
    expect(str(at + 257, 6)).toBe("ustar");
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return { entries, trailer: buf.length - at };
}

describe("tarGz", () => {
  it("writes ustar entries with their directories, modes, sizes and valid checksums", () => {
    const long = `src/${"deep/".repeat(25)}file.ts`;
    const gz = tarGz(
      "kit",
      [
        { path: "setup-vps.sh", data: new TextEncoder().encode("#!/bin/sh\n"), mode: 0o755 },
        { path: "a/b/c.txt", data: new TextEncoder().encode("x".repeat(1000)), mode: 0o644 },
        { path: long, data: new TextEncoder().encode("long"), mode: 0o644 },
      ],
      Date.UTC(2026, 0, 1),
    );
    const { entries, trailer } = readTar(gz);
    expect(trailer).toBeGreaterThanOrEqual(1024);
    expect(entries.every((e) => e.checksumOk)).toBe(true);
    expect(entries.every((e) => e.mtime === Date.UTC(2026, 0, 1) / 1000)).toBe(true);
    const byPath = new Map(entries.map((e) => [e.path, e]));
    expect(byPath.get("kit/")).toMatchObject({ type: "5", mode: 0o755 });
    expect(byPath.get("kit/a/")).toMatchObject({ type: "5" });
    expect(byPath.get("kit/a/b/")).toMatchObject({ type: "5" });
    expect(byPath.get("kit/a/b/c.txt")).toMatchObject({ type: "0", size: 1000, mode: 0o644, data: "x".repeat(1000) });
    expect(byPath.get("kit/setup-vps.sh")).toMatchObject({ mode: 0o755, data: "#!/bin/sh\n" });
    // Longer than 100 bytes: split into prefix and name.
    expect(byPath.get(`kit/${long}`)).toMatchObject({ data: "long" });
  });

  it("refuses paths that could escape the kit's directory, and duplicates", () => {
    const f = (path: string) => ({ path, data: new Uint8Array(), mode: 0o644 });
    for (const p of ["../x", "/etc/passwd", "a/../../x", "a//b", "./a"]) expect(() => tarGz("kit", [f(p)], 0), p).toThrow();
    expect(() => tarGz("kit", [f("a"), f("a")], 0)).toThrow(/two files/);
  });

  it("orders files by code units, so the same files give the same bytes whatever the host's locale", () => {
    const names = ["z.txt", "ä.txt", "B.txt", "a.txt", "a/b.txt", "a-b.txt"];
    const files = names.map((path) => ({ path, data: new TextEncoder().encode(path), mode: 0o644 }));
    const order = readTar(tarGz("kit", files, 0))
      .entries.filter((e) => e.type === "0")
      .map((e) => e.path.slice("kit/".length));
    expect(order).toEqual(["B.txt", "a-b.txt", "a.txt", "a/b.txt", "z.txt", "ä.txt"]);
    // In a Swedish locale "ä" sorts after "z", in an English one beside "a": the archive must not care.
    const tar = fileURLToPath(new URL("./tar.ts", import.meta.url));
    const script = `import { createHash } from "node:crypto"; const { tarGz } = await import(${JSON.stringify(tar)});
      const files = ${JSON.stringify(names)}.map((path) => ({ path, data: new TextEncoder().encode(path), mode: 0o644 }));
      process.stdout.write(["z", "ä"].sort((a, b) => a.localeCompare(b)).join("") + " " + createHash("sha256").update(tarGz("kit", files, 0)).digest("hex"));`;
    const run = (locale: string) =>
      execFileSync(process.execPath, ["--input-type=module", "-e", script], {
        env: { ...process.env, LC_ALL: locale, LANG: locale },
        encoding: "utf8",
      }).split(" ");
    const [enOrder, enHash] = run("en_US.UTF-8");
    const [svOrder, svHash] = run("sv_SE.UTF-8");
    expect([enOrder, svOrder]).toEqual(["äz", "zä"]); // the two hosts do collate differently
    expect(svHash).toBe(enHash);
  });
});
