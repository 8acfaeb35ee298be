import { describe, expect, it } from "vitest";
import { buildUploadForm, uploadMetadata, type WorkerUpload } from "./upload.ts";

const upload: WorkerUpload = {
  mainModule: "index.js",
  modules: [
    { name: "index.js", content: 'import t from "./data/words.txt"; export default { fetch() { return new Response(t) } }' },
    { name: "lib/legacy.cjs", content: "module.exports = 1" },
    { name: "add.wasm", content: new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]) },
    { name: "data/words.txt", content: "hello" },
    { name: "blob.bin", content: new Uint8Array([1, 2, 3]).buffer },
  ],
  compatibilityDate: "2025-01-01",
  compatibilityFlags: ["nodejs_compat"],
  bindings: [
    { type: "plain_text", name: "GREETING", text: "hi there" },
    { type: "kv_namespace", name: "MY_KV", namespace_id: "0123456789abcdef0123456789abcdef" },
  ],
  annotations: { "workers/message": "first", "workers/tag": "v1" },
};

describe("upload form", () => {
  it("has a string metadata field and one part per module named by its path", async () => {
    const form = buildUploadForm(upload);
    // parse it back exactly as a server would
    const parsed = await new Response(form).formData();
    const metadata = parsed.get("metadata");
    expect(typeof metadata).toBe("string");
    expect(JSON.parse(metadata as string)).toEqual({
      main_module: "index.js",
      bindings: upload.bindings,
      compatibility_date: "2025-01-01",
      compatibility_flags: ["nodejs_compat"],
      keep_bindings: ["secret_text", "secret_key"],
      annotations: { "workers/message": "first", "workers/tag": "v1" },
    });
    const parts = [...parsed.keys()];
    expect(parts).toEqual(["metadata", "index.js", "lib/legacy.cjs", "add.wasm", "data/words.txt", "blob.bin"]);
    const expectTypes: Record<string, string> = {
      "index.js": "application/javascript+module",
      "lib/legacy.cjs": "application/javascript",
      "add.wasm": "application/wasm",
      "data/words.txt": "text/plain",
      "blob.bin": "application/octet-stream",
    };
    for (const [name, type] of Object.entries(expectTypes)) {
      const file = parsed.get(name) as File;
      expect(file).toBeInstanceOf(File);
      expect(file.name).toBe(name);
      expect(file.type).toBe(type);
    }
    expect(new Uint8Array(await (parsed.get("add.wasm") as File).arrayBuffer())).toEqual(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]));
    expect(await (parsed.get("data/words.txt") as File).text()).toBe("hello");
  });

  it("names a CommonJS entry as body_part", () => {
    const meta = uploadMetadata({
      mainModule: "worker.js",
      modules: [{ name: "worker.js", content: "addEventListener('fetch', () => {})", type: "cjs" }],
      compatibilityDate: "2025-01-01",
    });
    expect(meta).toMatchObject({ body_part: "worker.js", bindings: [], compatibility_flags: [] });
    expect(meta).not.toHaveProperty("main_module");
  });

  it("keeps an explicit keepBindings (even empty) and passes extra metadata through", () => {
    const meta = uploadMetadata({ ...upload, keepBindings: [], extraMetadata: { logpush: false } });
    expect(meta).toMatchObject({ keep_bindings: [], logpush: false });
  });

  it("refuses a main module that is not uploaded, and duplicate names", () => {
    expect(() => buildUploadForm({ ...upload, mainModule: "missing.js" })).toThrow(/missing\.js/);
    expect(() => buildUploadForm({ ...upload, modules: [...upload.modules, { name: "index.js", content: "" }] })).toThrow(/twice/);
  });
});

describe("upload metadata for fleets", () => {
  it("carries migrations, settings, assets and keep_assets in wrangler's keys", () => {
    const meta = uploadMetadata({
      ...upload,
      migrations: { old_tag: "v1", new_tag: "v2", steps: [{ new_sqlite_classes: ["Room"] }] },
      logpush: true,
      placement: { mode: "smart" },
      limits: { cpu_ms: 50 },
      observability: { enabled: true },
      tailConsumers: [{ service: "tail" }],
      streamingTailConsumers: [{ service: "stream" }],
      keepAssets: false,
      assets: { jwt: "completion.jwt.token", config: { html_handling: "none", run_worker_first: ["/api/*"] } },
      extraMetadata: { cache_options: { enabled: true } },
    });
    expect(meta).toEqual({
      cache_options: { enabled: true },
      main_module: "index.js",
      bindings: upload.bindings,
      compatibility_date: "2025-01-01",
      compatibility_flags: ["nodejs_compat"],
      migrations: { old_tag: "v1", new_tag: "v2", steps: [{ new_sqlite_classes: ["Room"] }] },
      keep_bindings: ["secret_text", "secret_key"],
      logpush: true,
      placement: { mode: "smart" },
      tail_consumers: [{ service: "tail" }],
      streaming_tail_consumers: [{ service: "stream" }],
      limits: { cpu_ms: 50 },
      annotations: { "workers/message": "first", "workers/tag": "v1" },
      keep_assets: false,
      assets: { jwt: "completion.jwt.token", config: { html_handling: "none", run_worker_first: ["/api/*"] } },
      observability: { enabled: true },
    });
    // wrangler's key order, so the metadata reads like wrangler's.
    expect(Object.keys(meta).slice(1)).toEqual([
      "main_module",
      "bindings",
      "compatibility_date",
      "compatibility_flags",
      "migrations",
      "keep_bindings",
      "logpush",
      "placement",
      "tail_consumers",
      "streaming_tail_consumers",
      "limits",
      "annotations",
      "keep_assets",
      "assets",
      "observability",
    ]);
    expect(uploadMetadata({ ...upload, logpush: false, extraMetadata: { logpush: "a typed field wins" } })).toHaveProperty(
      "logpush",
      false,
    );
  });

  it("an assets-only Worker sends assets, annotations and compatibility, and no module part", async () => {
    const form = buildUploadForm({
      modules: [],
      compatibilityDate: "2025-04-01",
      assets: { jwt: "j.w.t" },
      annotations: { "workers/message": "m" },
    });
    const parsed = await new Response(form).formData();
    expect([...parsed.keys()]).toEqual(["metadata"]);
    expect(JSON.parse(parsed.get("metadata") as string)).toEqual({
      assets: { jwt: "j.w.t", config: {} },
      annotations: { "workers/message": "m" },
      compatibility_date: "2025-04-01",
      compatibility_flags: [],
    });
    expect(() => uploadMetadata({ modules: [], compatibilityDate: "2025-04-01" })).toThrow(/assets-only/);
  });

  it("takes the build layer's module types and sends each with its content type, the source map included", async () => {
    const form = buildUploadForm({
      mainModule: "index.js",
      compatibilityDate: "2025-01-01",
      modules: [
        { name: "index.js", content: "export default {}", type: "esm" },
        { name: "legacy.js", content: "module.exports = 1", type: "commonjs" },
        { name: "add.wasm", content: new Uint8Array([0, 97, 115, 109]), type: "compiled-wasm" },
        { name: "blob", content: new Uint8Array([9]), type: "buffer" },
        { name: "words", content: "hi", type: "text" },
        { name: "index.js.map", content: "{}", type: "sourcemap" },
      ],
    });
    const parsed = await new Response(form).formData();
    const types = Object.fromEntries([...parsed.entries()].filter(([k]) => k !== "metadata").map(([k, v]) => [k, (v as File).type]));
    expect(types).toEqual({
      "index.js": "application/javascript+module",
      "legacy.js": "application/javascript",
      "add.wasm": "application/wasm",
      blob: "application/octet-stream",
      words: "text/plain",
      "index.js.map": "application/source-map",
    });
    expect(
      uploadMetadata({ mainModule: "w.js", modules: [{ name: "w.js", content: "", type: "commonjs" }], compatibilityDate: "2025-01-01" }),
    ).toHaveProperty("body_part", "w.js");
    expect(() =>
      buildUploadForm({ mainModule: "metadata", modules: [{ name: "metadata", content: "" }], compatibilityDate: "2025-01-01" }),
    ).toThrow(/cannot be named "metadata"/);
  });
});
