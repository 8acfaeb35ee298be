// Reading a parsed GraphQL document the way Cloudflare's analytics API does: argument values with
// variables substituted (declared variable types are not checked, as wrangler's own queries
// declare types Cloudflare does not have), and selection sets with fragments and @skip/@include
// expanded into plain field lists.
import {
  Kind,
  type FieldNode,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from "graphql/language";
import { GraphqlError } from "./errors.ts";

export type Vars = Record<string, unknown>;
export type Fragments = Map<string, FragmentDefinitionNode>;

/** A literal or variable as a JS value; an absent variable is `undefined` (and drops out of objects and lists). */
export function valueOf(node: ValueNode, vars: Vars): unknown {
  switch (node.kind) {
    case Kind.VARIABLE:
      return vars[node.name.value];
    case Kind.INT:
    case Kind.FLOAT:
      return Number(node.value);
    case Kind.STRING:
    case Kind.ENUM:
      return node.value;
    case Kind.BOOLEAN:
      return node.value;
    case Kind.NULL:
      return null;
    case Kind.LIST:
      return node.values.map((v) => valueOf(v, vars)).filter((v) => v !== undefined);
    case Kind.OBJECT: {
      const out: Record<string, unknown> = {};
      for (const f of node.fields) {
        const v = valueOf(f.value, vars);
        if (v !== undefined) out[f.name.value] = v;
      }
      return out;
    }
  }
}

/** The operation's variables: the given values, else the declared defaults. */
export function variablesOf(op: OperationDefinitionNode, given: Vars): Vars {
  const out: Vars = {};
  for (const def of op.variableDefinitions ?? []) {
    const name = def.variable.name.value;
    if (Object.hasOwn(given, name)) out[name] = given[name];
    else if (def.defaultValue) out[name] = valueOf(def.defaultValue, {});
  }
  return out;
}

export function argsOf(field: FieldNode, vars: Vars): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const a of field.arguments ?? []) {
    const v = valueOf(a.value, vars);
    if (v !== undefined) out[a.name.value] = v;
  }
  return out;
}

function included(
  node: { directives?: readonly { name: { value: string }; arguments?: readonly { name: { value: string }; value: ValueNode }[] }[] },
  vars: Vars,
): boolean {
  for (const d of node.directives ?? []) {
    const cond = d.arguments?.find((a) => a.name.value === "if");
    const value = cond ? valueOf(cond.value, vars) === true : false;
    if (d.name.value === "skip" && value) return false;
    if (d.name.value === "include" && !value) return false;
  }
  return true;
}

/** The fields a selection set asks for, fragments spread in place. */
export function fieldsOf(set: SelectionSetNode | undefined, fragments: Fragments, vars: Vars, seen: Set<string> = new Set()): FieldNode[] {
  const out: FieldNode[] = [];
  for (const s of set?.selections ?? []) {
    if (!included(s, vars)) continue;
    if (s.kind === Kind.FIELD) out.push(s);
    else if (s.kind === Kind.INLINE_FRAGMENT) out.push(...fieldsOf(s.selectionSet, fragments, vars, seen));
    else if (s.kind === Kind.FRAGMENT_SPREAD) {
      const name = s.name.value;
      const frag = fragments.get(name);
      if (!frag) throw new GraphqlError(`unknown fragment "${name}"`);
      if (seen.has(name)) throw new GraphqlError(`fragment "${name}" spreads itself`);
      out.push(...fieldsOf(frag.selectionSet, fragments, vars, new Set([...seen, name])));
    }
  }
  return out;
}

/** The key a field's value has in the answer: its alias, else its name. */
export const keyOf = (f: FieldNode) => f.alias?.value ?? f.name.value;

/** A scalar field takes no selection set; an object field needs one (Cloudflare's two messages). */
export function expectScalar(f: FieldNode, path: Array<string | number>): void {
  if (f.selectionSet) throw new GraphqlError("scalar fields must have no selections", 400, [...path, keyOf(f)]);
}
export function expectObject(f: FieldNode, path: Array<string | number>): void {
  if (!f.selectionSet) throw new GraphqlError("object field must have selections", 400, [...path, keyOf(f)]);
}
