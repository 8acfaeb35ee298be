// Runs one GraphQL Analytics API request: `query { viewer { accounts(filter: {accountTag}) {
// <dataset>(…) {…} } } }`. The document is parsed by graphql-js (the reference parser); the edge
// interprets the few nodes Cloudflare's API has rather than building a schema, so variable type
// names are not checked (Cloudflare accepts `string` and wrangler's own
// `ZoneWorkersRequestsFilter_InputObject`). Answers are `{"data": …, "errors": null}`.
import { parse, Kind, type FieldNode, type FragmentDefinitionNode, type OperationDefinitionNode } from "graphql/language";
import * as z from "zod";
import { argsOf, expectObject, fieldsOf, keyOf, variablesOf, type Fragments, type Vars } from "./ast.ts";
import { GraphqlError } from "./errors.ts";
import { workersInvocationsAdaptive, type DatasetContext } from "./invocations.ts";
import { d1QueriesAdaptiveGroups } from "./d1-queries.ts";
import { d1AnalyticsAdaptiveGroups, emptyDataset, r2StorageAdaptiveGroups, type StorageContext } from "./storage-datasets.ts";

export const GraphqlRequestSchema = z.object({
  query: z.string().min(1),
  variables: z.record(z.string(), z.unknown()).nullish(),
  operationName: z.string().nullish(),
});
export type GraphqlRequest = z.infer<typeof GraphqlRequestSchema>;

/** Datasets real Cloudflare has that wrangler queries but the edge does not record: they answer no rows. */
const EMPTY_DATASETS = new Set(["r2OperationsAdaptiveGroups"]);

/** A parsed document stops at this many tokens: a query is a few hundred. */
const MAX_TOKENS = 20_000;

export type AccountResolver = (
  accountTag: string,
  path: Array<string | number>,
) => Promise<Omit<DatasetContext, "fragments" | "vars"> & Pick<StorageContext, "d1Usage" | "d1Queries" | "r2Storage">>;

function operationOf(defs: readonly OperationDefinitionNode[], name: string | null | undefined): OperationDefinitionNode {
  if (name) {
    const op = defs.find((d) => d.name?.value === name);
    if (!op) throw new GraphqlError(`unknown operation named "${name}"`);
    return op;
  }
  if (defs.length !== 1)
    throw new GraphqlError(
      defs.length === 0
        ? "query contains error, please review it and retry: no operation"
        : "operationName is required when a document holds several operations",
    );
  return defs[0]!;
}

async function account(
  field: FieldNode,
  vars: Vars,
  fragments: Fragments,
  resolve: AccountResolver,
  path: Array<string | number>,
): Promise<Record<string, unknown>[]> {
  expectObject(field, path);
  const k = keyOf(field);
  const filter = argsOf(field, vars)["filter"] as Record<string, unknown> | undefined;
  const tag = filter?.["accountTag"];
  if (typeof tag !== "string" || tag === "")
    throw new GraphqlError("error parsing args: accounts needs filter: {accountTag: <account id>}", 400, [...path, k]);
  for (const key of Object.keys(filter ?? {})) {
    if (key !== "accountTag")
      throw new GraphqlError(`error parsing args: accounts filters by accountTag only, not "${key}"`, 400, [...path, k]);
  }
  const base = [...path, k, 0];
  const resolved = await resolve(tag, base);
  const ctx: DatasetContext = { ...resolved, fragments, vars };
  const storage: StorageContext = {
    now: resolved.now,
    d1Usage: resolved.d1Usage,
    d1Queries: resolved.d1Queries,
    r2Storage: resolved.r2Storage,
    fragments,
    vars,
  };
  const out: Record<string, unknown> = {};
  for (const f of fieldsOf(field.selectionSet, fragments, vars)) {
    const name = f.name.value;
    const fk = keyOf(f);
    if (name === "__typename") out[fk] = "account";
    else if (name === "workersInvocationsAdaptive") out[fk] = workersInvocationsAdaptive(f, ctx, [...base, fk]);
    else if (name === "d1AnalyticsAdaptiveGroups") out[fk] = d1AnalyticsAdaptiveGroups(f, storage, [...base, fk]);
    else if (name === "d1QueriesAdaptiveGroups") out[fk] = d1QueriesAdaptiveGroups(f, storage, [...base, fk]);
    else if (name === "r2StorageAdaptiveGroups") out[fk] = r2StorageAdaptiveGroups(f, storage, [...base, fk]);
    else if (EMPTY_DATASETS.has(name)) out[fk] = emptyDataset(f, storage, name, [...base, fk]);
    else
      throw new GraphqlError(
        `unknown field "${name}" on type "account" (the local edge answers workersInvocationsAdaptive, d1AnalyticsAdaptiveGroups, d1QueriesAdaptiveGroups and r2StorageAdaptiveGroups)`,
        400,
        [...base, fk],
      );
  }
  return [out];
}

export async function executeGraphql(req: GraphqlRequest, resolve: AccountResolver): Promise<Record<string, unknown>> {
  let doc;
  try {
    doc = parse(req.query, { maxTokens: MAX_TOKENS });
  } catch (e) {
    // graphql-js parses recursively: a value nested a few thousand levels (within MAX_TOKENS) overflows the stack.
    const why = e instanceof RangeError ? "the query nests too deeply" : e instanceof Error ? e.message : String(e);
    throw new GraphqlError(`query contains error, please review it and retry: ${why}`);
  }
  const ops = doc.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  const fragments: Fragments = new Map(
    doc.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((f) => [f.name.value, f]),
  );
  const op = operationOf(ops, req.operationName);
  if (op.operation !== "query") throw new GraphqlError(`only queries are supported, not ${op.operation}s`);
  const vars = variablesOf(op, req.variables ?? {});

  const data: Record<string, unknown> = {};
  for (const root of fieldsOf(op.selectionSet, fragments, vars)) {
    const rk = keyOf(root);
    if (root.name.value === "__typename") {
      data[rk] = "Query";
      continue;
    }
    if (root.name.value !== "viewer") throw new GraphqlError(`unknown field "${root.name.value}" on type "Query"`, 400, [rk]);
    expectObject(root, []);
    const viewer: Record<string, unknown> = {};
    for (const f of fieldsOf(root.selectionSet, fragments, vars)) {
      const name = f.name.value;
      if (name === "__typename") viewer[keyOf(f)] = "viewer";
      else if (name === "accounts") viewer[keyOf(f)] = await account(f, vars, fragments, resolve, [rk]);
      else if (name === "zones")
        throw new GraphqlError("zone-scoped analytics are not emulated by the local edge; query viewer.accounts", 400, [rk, keyOf(f)]);
      else throw new GraphqlError(`unknown field "${name}" on type "viewer"`, 400, [rk, keyOf(f)]);
    }
    data[rk] = viewer;
  }
  return { data, errors: null };
}
