/** `items` cut into runs of at most `size`, in order: one run per request. */
export function batchesOf<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let start = 0; start < items.length; start += size) out.push(items.slice(start, start + size));
  return out;
}

/** A batch size the caller asked for, checked against the endpoint's maximum. */
export function batchSize(requested: number | undefined, max: number, what: string): number {
  const size = requested ?? max;
  if (!Number.isInteger(size) || size < 1 || size > max)
    throw new RangeError(`${what} must be an integer from 1 to ${max}, got ${String(requested)}`);
  return size;
}
