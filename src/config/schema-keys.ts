// The keys a zod object schema knows at a path of a value it validates: what a misspelt key is
// compared with for a "did you mean" (orchestrator.yaml, wrangler files). Walks through arrays,
// records, optionals, defaults, pipes and unions; anything else knows no keys.
import * as z from "zod";

export function keysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let at: z.ZodType[] = [schema];
  for (const p of path) at = at.flatMap(objectsOf).flatMap((s) => step(s, p));
  return [...new Set(at.flatMap(objectsOf).flatMap((s) => (s instanceof z.ZodObject ? Object.keys(s.shape) : [])))];
}

function objectsOf(s: z.ZodType): z.ZodType[] {
  if (s instanceof z.ZodOptional || s instanceof z.ZodNullable || s instanceof z.ZodDefault || s instanceof z.ZodReadonly)
    return objectsOf(s.unwrap() as z.ZodType);
  if (s instanceof z.ZodPipe) return objectsOf(s.in as z.ZodType);
  if (s instanceof z.ZodUnion) return (s.options as z.ZodType[]).flatMap(objectsOf);
  return [s];
}

function step(s: z.ZodType, p: PropertyKey): z.ZodType[] {
  if (typeof p === "number") return s instanceof z.ZodArray ? [s.element as z.ZodType] : [];
  if (s instanceof z.ZodRecord) return [s.valueType as z.ZodType];
  if (s instanceof z.ZodObject) {
    const next = (s.shape as Record<string, z.ZodType>)[String(p)];
    return next ? [next] : [];
  }
  return [];
}
