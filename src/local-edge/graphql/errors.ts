// GraphQL Analytics API errors in Cloudflare's shape (analytics/graphql-api/errors): not the v4
// envelope but `{"data": null, "errors": [{"message", "path", "extensions": {"timestamp"}}]}`,
// with the HTTP status Cloudflare documents for the kind of error (400 for a query it cannot
// run, 401/403 for auth, 429 rate limits, 503 unavailable).

export class GraphqlError extends Error {
  readonly status: number;
  readonly path: Array<string | number> | undefined;
  constructor(message: string, status = 400, path?: Array<string | number>) {
    super(message);
    this.status = status;
    this.path = path;
  }
}

export function graphqlErrorBody(err: GraphqlError, now: Date = new Date()): Record<string, unknown> {
  return {
    data: null,
    errors: [{ message: err.message, ...(err.path ? { path: err.path.map(String) } : {}), extensions: { timestamp: now.toISOString() } }],
  };
}

export function graphqlErrorResponse(err: GraphqlError): Response {
  return new Response(JSON.stringify(graphqlErrorBody(err)), { status: err.status, headers: { "content-type": "application/json" } });
}
