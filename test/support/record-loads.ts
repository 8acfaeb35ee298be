// Preloaded into a child process with `node --import`: appends the URL of every module the process
// loads (ES modules, CommonJS, built-ins; node:module's synchronous hooks see them all) to the
// file named by CBO_RECORD_LOADS, one per line. Tests read it to prove what a process never loaded.
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
}
