// The D1 binding a Worker sees (env.DB), in the Worker's own isolate: prepare() must be
// synchronous, so it cannot be an RPC stub. The behaviour follows workerd's own D1 wrapper
// (src/cloudflare/internal/d1-api.ts): bind() value rules, first/all/run/raw result shapes, batch()
// in one transaction, exec() line by line, sessions with bookmarks, and the D1_* error prefixes.
// Queries go to the router's D1Binding entrypoint (the `raw` stub), which asks the edge.

export type D1Meta = Record<string, unknown> & { duration: number };
type Raw = { columns: string[]; rows: unknown[][]; meta: D1Meta };
type Answer = { ok: true; results: Raw[]; bookmark: string } | { ok: false; error: string; index?: number };

/** The router's D1Binding entrypoint, as an RPC stub. */
export type D1RawStub = {
  query(req: { queries: Array<{ sql: string; params: unknown[] }>; mode: "one" | "batch" | "exec" }): Promise<Answer>;
};

const FIRST_PRIMARY = "first-primary";
const FIRST_UNCONSTRAINED = "first-unconstrained";

function d1Error(prefix: string, message: string): Error {
  return new Error(`${prefix}: ${message}`, { cause: new Error(message) });
}

function toObjects(r: Raw): Record<string, unknown>[] {
  return r.rows.map((row) => Object.fromEntries(row.map((cell, i) => [r.columns[i], cell])));
}

class D1DatabaseSession {
  #raw: D1RawStub;
  #bookmark: string | null;
  readonly #primaryOnly: boolean;
  constructor(raw: D1RawStub, bookmarkOrConstraint: string | null, primaryOnly = false) {
    this.#raw = raw;
    this.#bookmark = bookmarkOrConstraint;
    this.#primaryOnly = primaryOnly;
  }

  /** The newest bookmark this session has seen (null before its first query, and for env.DB itself). */
  getBookmark(): string | null {
    if (this.#primaryOnly) return null;
    return this.#bookmark === FIRST_PRIMARY || this.#bookmark === FIRST_UNCONSTRAINED ? null : this.#bookmark;
  }

  prepare(sql: string): D1PreparedStatement {
    return new D1PreparedStatement(this, sql, []);
  }

  /** @internal */
  async _run(queries: Array<{ sql: string; params: unknown[] }>, mode: "one" | "batch" | "exec"): Promise<Raw[]> {
    let answer: Answer;
    try {
      answer = await this.#raw.query({ queries, mode });
    } catch (e) {
      throw d1Error("D1_ERROR", e instanceof Error ? e.message : String(e));
    }
    if (!answer.ok) {
      if (mode === "exec") {
        const i = answer.index ?? 0;
        throw d1Error("D1_EXEC_ERROR", `Error in line ${i + 1}: ${queries[i]?.sql ?? ""}: ${answer.error}`);
      }
      throw d1Error("D1_ERROR", answer.error);
    }
    const current = this.getBookmark();
    if (!this.#primaryOnly && (current === null || current < answer.bookmark)) this.#bookmark = answer.bookmark;
    return answer.results;
  }

  async batch<T = Record<string, unknown>>(
    statements: D1PreparedStatement[],
  ): Promise<Array<{ success: true; meta: D1Meta; results: T[] }>> {
    const raws = await this._run(
      statements.map((s) => ({ sql: s.statement, params: s.params })),
      "batch",
    );
    return raws.map((r) => ({ success: true as const, meta: r.meta, results: toObjects(r) as T[] }));
  }
}

class D1PreparedStatement {
  readonly #session: D1DatabaseSession;
  readonly statement: string;
  readonly params: unknown[];
  constructor(session: D1DatabaseSession, statement: string, params: unknown[]) {
    this.#session = session;
    this.statement = statement;
    this.params = params;
  }

  bind(...values: unknown[]): D1PreparedStatement {
    const params = values.map((v) => {
      const t = typeof v;
      if (t === "number" || t === "string") return v;
      if (t === "boolean") return v ? 1 : 0;
      if (t === "object") {
        if (v === null) return v;
        if (Array.isArray(v) && v.every((b) => typeof b === "number" && b >= 0 && b < 256)) return v;
        if (v instanceof ArrayBuffer) return Array.from(new Uint8Array(v));
        if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number>);
      }
      throw d1Error("D1_TYPE_ERROR", `Type '${t}' not supported for value '${String(v)}'`);
    });
    return new D1PreparedStatement(this.#session, this.statement, params);
  }

  async #one(): Promise<Raw> {
    return (await this.#session._run([{ sql: this.statement, params: this.params }], "one"))[0]!;
  }

  async first<T = unknown>(column?: string): Promise<T | null> {
    const rows = toObjects(await this.#one());
    if (rows.length === 0) return null;
    if (column === undefined) return rows[0] as T;
    if (rows[0]![column] === undefined) throw d1Error("D1_COLUMN_NOTFOUND", `Column not found (${column})`);
    return rows[0]![column] as T;
  }

  async all<T = Record<string, unknown>>(): Promise<{ success: true; meta: D1Meta; results: T[] }> {
    const r = await this.#one();
    return { success: true, meta: r.meta, results: toObjects(r) as T[] };
  }

  async run<T = Record<string, unknown>>(): Promise<{ success: true; meta: D1Meta; results: T[] }> {
    return this.all<T>();
  }

  async raw<T = unknown[]>(options?: { columnNames?: boolean }): Promise<T[]> {
    const r = await this.#one();
    return [...(options?.columnNames ? [r.columns as T] : []), ...(r.rows as T[])];
  }
}

export class D1Database {
  #raw: D1RawStub;
  #primary: D1DatabaseSession;
  constructor(raw: D1RawStub) {
    this.#raw = raw;
    this.#primary = new D1DatabaseSession(raw, null, true);
  }

  prepare(sql: string): D1PreparedStatement {
    return this.#primary.prepare(sql);
  }

  batch<T = Record<string, unknown>>(statements: D1PreparedStatement[]) {
    return this.#primary.batch<T>(statements);
  }

  /** Runs each line as its own query, in order, without parameters (as D1 does). */
  async exec(query: string): Promise<{ count: number; duration: number }> {
    const lines = query
      .trim()
      .split("\n")
      .filter((l) => l.trim() !== "");
    const raws = await this.#primary._run(
      lines.map((sql) => ({ sql, params: [] })),
      "exec",
    );
    return { count: raws.length, duration: raws.reduce((s, r) => s + (r.meta.duration ?? 0), 0) };
  }

  withSession(constraintOrBookmark?: string): D1DatabaseSession {
    const c = constraintOrBookmark?.trim();
    return new D1DatabaseSession(this.#raw, c ? c : FIRST_UNCONSTRAINED);
  }

  /** @deprecated Only alpha databases had it; D1 answers with an error, and so does the local edge. */
  async dump(): Promise<ArrayBuffer> {
    throw d1Error("D1_DUMP_ERROR", "dump() is only available for alpha databases; use `wrangler d1 export`.");
  }
}
