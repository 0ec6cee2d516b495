/** A fixed set of context sequences: a request takes one, or waits its turn in order. */
export class SequencePool<S> {
  readonly #free: S[];
  readonly #waiting: Array<(s: S) => void> = [];

  constructor(sequences: readonly S[]) {
    this.#free = [...sequences];
  }

  async use<T>(fn: (s: S) => Promise<T>, signal?: AbortSignal): Promise<T> {
    const s = await this.#take(signal);
    try {
      return await fn(s);
    } finally {
      const next = this.#waiting.shift();
      if (next) next(s);
      else this.#free.push(s);
    }
  }

  #take(signal?: AbortSignal): Promise<S> {
    const s = this.#free.pop();
    if (s !== undefined) return Promise.resolve(s);
    return new Promise<S>((resolve, reject) => {
      const waiter = (x: S): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve(x);
      };
      const onAbort = (): void => {
        const i = this.#waiting.indexOf(waiter);
        if (i >= 0) this.#waiting.splice(i, 1);
        reject(signal?.reason ?? new Error('aborted'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiting.push(waiter);
    });
  }
}
