// Preloaded into a child process with `node --import`: appends the URL of every module the process
// loads (ES modules, CommonJS, built-ins; node:module's synchronous hooks see them all) to the
// file named by CBO_RECORD_LOADS, one per line. Tests read it to prove what a process never loaded.
// Each call of the global fetch is appended too, as `fetch <METHOD> <origin>`: Node's fetch (undici)
// is a built-in the hooks never see, and the daemon must not use it (src/cloudflare/node-fetch.ts).
import { appendFileSync } from "node:fs";
import { registerHooks } from "node:module";

const out = process.env.CBO_RECORD_LOADS;
if (out) {
  registerHooks({
    load(url, context, nextLoad) {
      appendFileSync(out, `${url}\n`);
      return nextLoad(url, context);
    },
  });
  const fetch = globalThis.fetch;
  globalThis.fetch = (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const method = init?.method ?? (input instanceof Request ? input.method : "GET");
    appendFileSync(out, `fetch ${method.toUpperCase()} ${url.origin}\n`);
    return fetch(input, init);
  };
}
