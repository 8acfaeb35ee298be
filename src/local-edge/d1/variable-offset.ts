// Where SQLite stops a statement with "too many SQL variables": the byte offset of the first
// parameter past the limit, which workerd's D1 shows ("too many SQL variables at offset 207") and
// node:sqlite does not report. Parameters are `?`, `?NNN`, `:name`, `@name` and `$name` outside
// strings, quoted names and comments; a name used again is the same parameter.
const NAME = /[A-Za-z0-9_]/;

export function variableOffset(sql: string, max: number): number | undefined {
  let count = 0;
  const names = new Set<string>();
  const at = (i: number) => new TextEncoder().encode(sql.slice(0, i)).length;
  let i = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    if (c === "'" || c === '"' || c === "`" || c === "[") {
      const close = c === "[" ? "]" : c;
      let j = i + 1;
      for (;;) {
        const k = sql.indexOf(close, j);
        if (k < 0) return undefined;
        if (close !== "]" && sql[k + 1] === close) j = k + 2;
        else {
          i = k + 1;
          break;
        }
      }
      continue;
    }
    if (c === "-" && sql[i + 1] === "-") {
      const k = sql.indexOf("\n", i);
      i = k < 0 ? sql.length : k + 1;
      continue;
    }
    if (c === "/" && sql[i + 1] === "*") {
      const k = sql.indexOf("*/", i + 2);
      i = k < 0 ? sql.length : k + 2;
      continue;
    }
    if (c === "?") {
      let j = i + 1;
      while (j < sql.length && sql[j]! >= "0" && sql[j]! <= "9") j++;
      count = j > i + 1 ? Math.max(count, Number(sql.slice(i + 1, j))) : count + 1;
      if (count > max) return at(i);
      i = j;
      continue;
    }
    if ((c === ":" || c === "@" || c === "$") && NAME.test(sql[i + 1] ?? "")) {
      let j = i + 1;
      while (j < sql.length && NAME.test(sql[j]!)) j++;
      const name = sql.slice(i, j);
      if (!names.has(name)) {
        names.add(name);
        count++;
        if (count > max) return at(i);
      }
      i = j;
      continue;
    }
    i++;
  }
  return undefined;
}
