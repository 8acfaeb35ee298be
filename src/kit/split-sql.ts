// Splits a D1 query body into statements the way SQLite itself decides where one ends: the state
// machine of sqlite3_complete() (complete.c), which knows that the `;` inside
// `CREATE TRIGGER ... BEGIN ...; END;` does not end the statement. Quotes, [identifiers] and
// comments are skipped as SQLite's tokenizer skips them.

/** Tokens of sqlite3_complete(). */
const SEMI = 0,
  WS = 1,
  OTHER = 2,
  EXPLAIN = 3,
  CREATE = 4,
  TEMP = 5,
  TRIGGER = 6,
  END = 7;

/**
 * trans[state][token] -> state. States: 0 invalid (nothing yet), 1 start (after a complete
 * statement), 2 normal, 3 explain, 4 create, 5 trigger body, 6 semi inside a trigger, 7 end.
 */
const TRANS: number[][] = [
  /* 0 INVALID */ [1, 0, 2, 3, 4, 2, 2, 2],
  /* 1 START   */ [1, 1, 2, 3, 4, 2, 2, 2],
  /* 2 NORMAL  */ [1, 2, 2, 2, 2, 2, 2, 2],
  /* 3 EXPLAIN */ [1, 3, 3, 2, 4, 2, 2, 2],
  /* 4 CREATE  */ [1, 4, 2, 2, 2, 4, 5, 2],
  /* 5 TRIGGER */ [6, 5, 5, 5, 5, 5, 5, 5],
  /* 6 SEMI    */ [6, 6, 5, 5, 5, 5, 5, 7],
  /* 7 END     */ [1, 7, 5, 5, 5, 5, 5, 5],
];

const KEYWORDS: Record<string, number> = { create: CREATE, trigger: TRIGGER, temp: TEMP, temporary: TEMP, end: END, explain: EXPLAIN };

export type SqlStatement = {
  /** The statement text without its trailing `;` (comments inside kept). */
  sql: string;
  /** First keyword, lowercased (`select`, `insert`, `create`, …), or "" when it starts otherwise. */
  keyword: string;
};

/** The statements of `sql`, in order; empty ones (only whitespace, comments or `;`) are dropped. */
export function splitSql(sql: string): SqlStatement[] {
  const out: SqlStatement[] = [];
  let state = 0;
  let start = 0;
  let keyword: string | undefined;
  let i = 0;
  const n = sql.length;
  const push = (end: number) => {
    const text = sql.slice(start, end).trim();
    if (keyword !== undefined && text !== "") out.push({ sql: text, keyword });
    keyword = undefined;
  };
  while (i < n) {
    const c = sql[i]!;
    let token: number;
    if (c === ";") {
      token = SEMI;
      const next = TRANS[state]![token]!;
      if (next === 1) {
        push(i);
        start = i + 1;
      }
      state = next;
      i++;
      continue;
    }
    if (c === " " || c === "\t" || c === "\n" || c === "\r" || c === "\f") {
      token = WS;
      i++;
    } else if (c === "/" && sql[i + 1] === "*") {
      const close = sql.indexOf("*/", i + 2);
      i = close < 0 ? n : close + 2;
      token = WS;
    } else if (c === "-" && sql[i + 1] === "-") {
      const nl = sql.indexOf("\n", i + 2);
      i = nl < 0 ? n : nl + 1;
      token = WS;
    } else if (c === "[") {
      const close = sql.indexOf("]", i + 1);
      i = close < 0 ? n : close + 1;
      token = OTHER;
    } else if (c === "'" || c === '"' || c === "`") {
      // A doubled quote inside is an escaped quote: keep scanning past it.
      let j = i + 1;
      for (;;) {
        const close = sql.indexOf(c, j);
        if (close < 0) {
          j = n;
          break;
        }
        if (sql[close + 1] === c) {
          j = close + 2;
          continue;
        }
        j = close + 1;
        break;
      }
      i = j;
      token = OTHER;
    } else if (/[A-Za-z0-9_$\u0080-\uffff]/.test(c)) {
      let j = i + 1;
      while (j < n && /[A-Za-z0-9_$\u0080-\uffff]/.test(sql[j]!)) j++;
      const word = sql.slice(i, j).toLowerCase();
      token = /^[a-z_]/.test(word) ? (KEYWORDS[word] ?? OTHER) : OTHER;
      if (keyword === undefined) keyword = /^[a-z_]+$/.test(word) ? word : "";
      i = j;
    } else {
      token = OTHER;
      i++;
    }
    if (token !== WS && keyword === undefined) keyword = "";
    state = TRANS[state]![token]!;
  }
  push(n);
  return out;
}
