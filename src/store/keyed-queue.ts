/**
 * Runs async jobs one after another per key; jobs of different keys run concurrently. A failed
 * job does not stop the ones queued after it. Stores use it to keep writes to one table (or to
 * one DuckDB connection, under a single key) from interleaving.
 *
 * @example
 * ```ts
 * const queue = new KeyedQueue();
 * await Promise.all([queue.run("t1", writeA), queue.run("t1", writeB), queue.run("t2", writeC)]);
 * // writeB starts after writeA settles; writeC runs beside them
 * ```
 */
export class KeyedQueue {
  private readonly tails = new Map<string, Promise<unknown>>();

  /** Runs `job` after every job queued before it under `key` has settled. */
  run<T>(key: string, job: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const next = previous.then(job, job);
    const tail = next.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return next;
  }

  /** Resolves once every job queued so far (under any key) has settled. */
  async drain(): Promise<void> {
    while (this.tails.size > 0) await Promise.all([...this.tails.values()]);
  }
}
