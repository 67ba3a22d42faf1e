import * as z from "zod";

/**
 * Zod wrappers that do not change what a field *is* for hashing: `.optional()`, `.nullable()`,
 * `.default()`, `.prefault()`, `.catch()`, `.readonly()`, `.nonoptional()`, `z.lazy()`.
 * Returns the wrapped schema, or undefined when `schema` is not such a wrapper.
 */
export function unwrapOnce(schema: z.ZodType): z.ZodType | undefined {
  if (
    schema instanceof z.ZodOptional ||
    schema instanceof z.ZodNullable ||
    schema instanceof z.ZodDefault ||
    schema instanceof z.ZodPrefault ||
    schema instanceof z.ZodCatch ||
    schema instanceof z.ZodReadonly ||
    schema instanceof z.ZodNonOptional
  ) {
    return schema.unwrap() as z.ZodType;
  }
  if (schema instanceof z.ZodLazy) return schema.unwrap() as z.ZodType;
  return undefined;
}

/**
 * Every layer of a field's schema, outermost first: the wrappers, and for a `.pipe()` /
 * `.transform()` both of its sides. Markers and identities are looked up on each layer, so they
 * survive wrapping in either order (`updateOnly(x).optional()` and `updateOnly(x.optional())`).
 */
export function schemaLayers(schema: z.ZodType): z.ZodType[] {
  const layers: z.ZodType[] = [];
  const seen = new Set<z.ZodType>();
  const visit = (s: z.ZodType): void => {
    if (seen.has(s)) return;
    seen.add(s);
    layers.push(s);
    const inner = unwrapOnce(s);
    if (inner) visit(inner);
    else if (s instanceof z.ZodPipe) {
      visit(s.in as z.ZodType);
      visit(s.out as z.ZodType);
    }
  };
  visit(schema);
  return layers;
}

/**
 * The schema that describes a field's parsed (output) value: wrappers removed, the output side of
 * a pipe. `undefined` when the output is produced by a transform (its type is unknown: the value
 * is then serialized by its runtime type alone).
 */
export function outputSchema(schema: z.ZodType): z.ZodType | undefined {
  let s: z.ZodType = schema;
  for (let guard = 0; guard < 100; guard++) {
    const inner = unwrapOnce(s);
    if (inner) {
      s = inner;
      continue;
    }
    if (s instanceof z.ZodPipe) {
      s = s.out as z.ZodType;
      continue;
    }
    return s instanceof z.ZodTransform ? undefined : s;
  }
  return undefined;
}
