/**
 * Internal: the offset of a field of a generated `@bpfjs/uapi` layout (not exported from the
 * package index).
 *
 * @module
 */

/** Offset of field `k` of layout `l` (the layouts' field names are checked by the compiler). */
export const fieldOffset = <L extends { fields: Record<string, { offset: number }> }>(
  l: L,
  k: keyof L['fields'] & string,
): number => (l.fields as Record<string, { offset: number }>)[k]!.offset;
