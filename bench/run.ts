// `npm run bench [-- --only <prefix> ...]`: discovers bench/*.bench.ts, runs the benchmarks whose
// name starts with one of the prefixes (all when none is given) and prints one JSON result per line
// on stdout. Everything else, including stray console.log output from libraries or Workers, goes
// to stderr. Exit code 0 even when a goal is missed (the line says pass:false); 1 when a benchmark
// crashed (its line has value null and an `error`), 2 on bad usage.
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { BenchContext, BenchModule, BenchResult } from "./types.ts";

const USAGE = "usage: node bench/run.ts [--only <prefix>]... [--list]";

function parseArgs(argv: string[]): { only: string[]; list: boolean } {
  const only: string[] = [];
  let list = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--only" && argv[i + 1] !== undefined) only.push(argv[++i]!);
    else if (arg.startsWith("--only=")) only.push(arg.slice("--only=".length));
    else if (arg === "--list") list = true;
    else throw new Error(`unknown argument ${JSON.stringify(arg)}\n${USAGE}`);
  }
  return { only, list };
}

/** A benchmark is selected by a prefix of its name, or by the name of one of its results. */
const selects = (only: string[], name: string) =>
  only.length === 0 || only.some((p) => name.startsWith(p) || p.startsWith(`${name}_`) || p.startsWith(`${name}.`));

/** `edge.bench.ts` holds only `edge.*` benchmarks, so files no prefix can select are not imported. */
const fileMaySelect = (only: string[], group: string) =>
  only.length === 0 || only.some((p) => p.startsWith(`${group}.`) || `${group}.`.startsWith(p) || p === group);

async function main(): Promise<number> {
  // Keep stdout for result lines only.
  const writeOut = process.stdout.write.bind(process.stdout);
  process.stdout.write = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;
  const emit = (r: BenchResult) => writeOut(`${JSON.stringify(r)}\n`);
  const log = (m: string) => process.stderr.write(`[bench] ${m}\n`);

  let args: ReturnType<typeof parseArgs>;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    log((err as Error).message);
    return 2;
  }

  const benchDir = dirname(fileURLToPath(import.meta.url));
  const files = readdirSync(benchDir)
    .filter((f) => f.endsWith(".bench.ts"))
    .sort()
    .filter((f) => fileMaySelect(args.only, f.slice(0, -".bench.ts".length)));

  const shared = new Map<string, { value: Promise<unknown>; dispose: (v: never) => Promise<void> }>();
  const ctx: BenchContext = {
    log,
    shared<T>(key: string, create: () => Promise<T>, dispose: (value: T) => Promise<void>): Promise<T> {
      let entry = shared.get(key);
      if (entry === undefined) {
        entry = { value: create(), dispose: dispose as (v: never) => Promise<void> };
        shared.set(key, entry);
      }
      return entry.value as Promise<T>;
    },
  };

  let crashed = false;
  const crash = (name: string, err: unknown) => {
    crashed = true;
    const message = err instanceof Error ? err.message : String(err);
    log(`${name} crashed: ${err instanceof Error ? (err.stack ?? message) : message}`);
    emit({ name, value: null as unknown as number, unit: "", goal: "no crash", pass: false, error: message });
  };

  let selected = 0;
  for (const file of files) {
    const group = file.slice(0, -".bench.ts".length);
    let mod: BenchModule;
    try {
      mod = (await import(pathToFileURL(join(benchDir, file)).href)) as BenchModule;
      if (!Array.isArray(mod.benchmarks)) throw new Error(`${file} does not export \`benchmarks\``);
    } catch (err) {
      crash(group, err);
      continue;
    }
    for (const bench of mod.benchmarks) {
      if (!bench.name.startsWith(`${group}.`)) {
        crash(bench.name, new Error(`benchmarks in ${file} must be named "${group}.*"`));
        continue;
      }
      if (!selects(args.only, bench.name)) continue;
      selected++;
      if (args.list) {
        writeOut(`${bench.name}\n`);
        continue;
      }
      log(`${bench.name}: running`);
      const started = performance.now();
      try {
        for (const result of await bench.run(ctx)) emit(result);
        log(`${bench.name}: done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
      } catch (err) {
        crash(bench.name, err);
      }
    }
  }

  for (const [key, entry] of shared) {
    try {
      await entry.dispose((await entry.value) as never);
    } catch (err) {
      log(`disposing ${key} failed: ${(err as Error).message}`);
    }
  }
  if (selected === 0 && !crashed) log(`no benchmark matches ${args.only.join(", ")}`);
  return crashed ? 1 : 0;
}

const code = await main();
process.exitCode = code;
// Don't let a lingering handle (a workerd child, a keep-alive socket) hold the run open.
setTimeout(() => process.exit(code), 5_000).unref();
