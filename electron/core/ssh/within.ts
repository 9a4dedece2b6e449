/** The promise, or the error made by `late` once `ms` have passed (no limit without `ms`). */
export function within<T>(promise: Promise<T>, ms: number | undefined, late: () => Error): Promise<T> {
  if (ms === undefined) return promise;
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(late()), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
