// A misspelt key in a wrangler file is refused with the key it most likely meant: at the top
// level, inside `[env.X]`, and inside a binding's entry (TOML and JSONC alike).
import { describe, expect, it } from "vitest";
import { isCboError } from "../../kit/errors.ts";
import { parseWranglerText, wranglerSourceFromRaw } from "./index.ts";

const BASE = `name = "w"\nmain = "w.js"\ncompatibility_date = "2025-01-01"\n`;

function refusal(text: string, file: string, env?: string): string {
  try {
    wranglerSourceFromRaw(parseWranglerText(text, file), `/p/${file}`, env === undefined ? {} : { env });
  } catch (e) {
    if (isCboError(e) && e.code === "ERR_VALIDATION") return e.message;
    throw e;
  }
  throw new Error("expected the file to be refused");
}

describe("wrangler keys: did you mean", () => {
  it("top level", () => {
    expect(refusal(`${BASE}compatibilty_flags = ["nodejs_compat"]\n`, "wrangler.toml")).toContain(
      'compatibilty_flags: unknown wrangler key (wrangler warns and ignores it, so it would do nothing); did you mean "compatibility_flags"?',
    );
    expect(refusal(`${BASE}[[kv_namespace]]\nbinding = "KV"\nid = "x"\n`, "wrangler.toml")).toContain('did you mean "kv_namespaces"?');
  });

  it("inside an environment: only keys an environment may hold are offered", () => {
    const text = `${BASE}[env.prod]\n[[env.prod.d1_database]]\nbinding = "DB"\ndatabase_id = "x"\n`;
    expect(refusal(text, "wrangler.toml", "prod")).toContain("env.prod.d1_database: unknown wrangler key");
    expect(refusal(text, "wrangler.toml", "prod")).toContain('did you mean "d1_databases"?');
  });

  it("inside a binding (JSONC): the entry's own keys", () => {
    const text = `{ "name": "w", "main": "w.js", "compatibility_date": "2025-01-01",
      // a typo in the binding's key
      "kv_namespaces": [{ "bindng": "KV", "id": "x" }] }`;
    expect(refusal(text, "wrangler.jsonc")).toContain('kv_namespaces[0]: "bindng" is not supported by the orchestrator');
    expect(refusal(text, "wrangler.jsonc")).toContain('did you mean "bindng" -> "binding"?');
    const queues = `${BASE}[[queues.consumers]]\nqueue = "q"\nmax_batch_sise = 5\n`;
    expect(refusal(queues, "wrangler.toml")).toContain('did you mean "max_batch_sise" -> "max_batch_size"?');
  });

  it("nothing offered when nothing is close", () => {
    const m = refusal(`${BASE}zzzzzzzz = 1\n`, "wrangler.toml");
    expect(m).toContain("zzzzzzzz: unknown wrangler key");
    expect(m).not.toContain("did you mean");
  });
});
