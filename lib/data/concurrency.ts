/** Runs `fn` over `items` with at most `limit` calls in flight; results keep the input order. */
export async function mapConcurrent<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
  return results;
}

/** The value of `promise`, or its rejection when that is a `kind` error (other errors propagate). */
export function settleAs<T, E extends Error>(promise: Promise<T>, kind: new (...args: never[]) => E): Promise<T | E> {
  return promise.catch((err: unknown) => {
    if (err instanceof kind) return err;
    throw err;
  });
}
