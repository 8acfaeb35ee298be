import { describe, expect, it } from "vitest";
import { parseUpload } from "./multipart.ts";
import { CfApiError } from "./envelope.ts";

const ESM = "application/javascript+module";
const req = (form: FormData) => new Request("http://x/", { method: "PUT", body: form });

async function failure(form: FormData | Request): Promise<CfApiError> {
  try {
    await parseUpload(form instanceof Request ? form : req(form));
  } catch (e) {
    expect(e).toBeInstanceOf(CfApiError);
    return e as CfApiError;
  }
  throw new Error("expected the upload to be refused");
}

describe("parseUpload", () => {
  it("reads wrangler's form: metadata string field, parts named by module path", async () => {
    const f = new FormData();
    f.set(
      "metadata",
      JSON.stringify({
        main_module: "index.js",
        compatibility_date: "2025-01-01",
        bindings: [{ type: "plain_text", name: "A", text: "1" }],
      }),
    );
    f.set(
      "index.js",
      new File(["import x from './lib.js'; export default { fetch() { return new Response(x) } }"], "index.js", { type: ESM }),
    );
    f.set("lib.js", new File(["export default 'lib'"], "lib.js", { type: ESM }));
    f.set("index.js.map", new File(["{}"], "index.js.map", { type: "application/source-map" }));
    const u = await parseUpload(req(f));
    expect(u.mainModule).toBe("index.js");
    expect(u.modules.map((m) => [m.name, m.type])).toEqual([
      ["index.js", "esm"],
      ["lib.js", "esm"],
      ["index.js.map", "sourcemap"],
    ]);
    expect(u.metadata.bindings).toEqual([{ type: "plain_text", name: "A", text: "1" }]);
  });
  it("reads the SDK 5/6 form: metadata as a JSON file part, modules all named `files`", async () => {
    const f = new FormData();
    f.set("metadata", new File([JSON.stringify({ main_module: "worker.js" })], "metadata", { type: "application/json" }));
    f.append("files", new File(["export default {}"], "worker.js", { type: ESM }));
    f.append("files", new File(["hello"], "data.txt", { type: "text/plain" }));
    const u = await parseUpload(req(f));
    expect(u.mainModule).toBe("worker.js");
    expect(u.modules.map((m) => m.name)).toEqual(["worker.js", "data.txt"]);
  });
  it("refuses a missing main module, naming what was uploaded", async () => {
    const f = new FormData();
    f.set("metadata", JSON.stringify({ main_module: "main.js" }));
    f.set("index.js", new File(["export default {}"], "index.js", { type: ESM }));
    const e = await failure(f);
    expect([e.status, e.code]).toEqual([400, 10021]);
    expect(e.message).toContain("main.js");
    expect(e.message).toContain("index.js");
  });
  it("refuses bodies that are not multipart, or not parseable", async () => {
    expect(
      (await failure(new Request("http://x/", { method: "PUT", body: "{}", headers: { "content-type": "application/json" } }))).code,
    ).toBe(10021);
    const broken = new Request("http://x/", {
      method: "PUT",
      body: "--zzz\r\nnot a part",
      headers: { "content-type": "multipart/form-data; boundary=zzz" },
    });
    expect((await failure(broken)).code).toBe(10021);
  });
  it("refuses bad metadata and syntax errors with their location", async () => {
    const noMeta = new FormData();
    noMeta.set("index.js", new File(["export default {}"], "index.js", { type: ESM }));
    expect((await failure(noMeta)).message).toContain("metadata");
    const badJson = new FormData();
    badJson.set("metadata", "{nope");
    expect((await failure(badJson)).message).toContain("not valid JSON");
    const brackets = new FormData();
    brackets.set("metadata[main_module]", "index.js");
    expect((await failure(brackets)).message).toContain("Bracket-encoded");
    const syntax = new FormData();
    syntax.set("metadata", JSON.stringify({ main_module: "index.js" }));
    syntax.set("index.js", new File(["export default { fetch( }"], "index.js", { type: ESM }));
    const e = await failure(syntax);
    expect(e.message).toMatch(/SyntaxError in index\.js:1:/);
  });
});
