/** Anything that holds plaintext and can get rid of it: a plaintext store, a started upstream server. */
export interface Wipeable {
  wipe(): Promise<void>;
  wipeSync(): void;
}

/** Registers what must be wiped or stopped if the process ends before its owner cleans up (Secrets.store). */
export type Track = <S extends Wipeable>(s: S) => S;

/**
 * Everything secret a runner holds in buffers or files: released key material, plaintext model files.
 * `wipe` zeroes the buffers and removes the plaintext; it runs on stop, on a failed start-up, and from the
 * process 'exit' hook (synchronously) if the process ends another way. Key objects (the TEE key) live in
 * OpenSSL memory that JavaScript cannot zero; they are dropped with the runner.
 */
export class Secrets {
  readonly #buffers = new Set<Buffer>();
  readonly #stores = new Set<Wipeable>();
  readonly #unhook: () => void;

  constructor() {
    this.#unhook = onProcessExit(() => this.wipeSync());
  }

  buffer(b: Buffer): Buffer {
    this.#buffers.add(b);
    return b;
  }

  store<S extends Wipeable>(s: S): S {
    this.#stores.add(s);
    return s;
  }

  async wipe(): Promise<void> {
    for (const b of this.#buffers) b.fill(0);
    this.#buffers.clear();
    for (const s of this.#stores) await s.wipe();
    this.#stores.clear();
  }

  wipeSync(): void {
    for (const b of this.#buffers) b.fill(0);
    this.#buffers.clear();
    for (const s of this.#stores) s.wipeSync();
    this.#stores.clear();
  }

  /** After the final wipe: the exit hook is no longer needed. */
  release(): void {
    this.#unhook();
  }
}

const atExit = new Set<() => void>();
let hooked = false;

/** One process 'exit' listener for all runners of the process (tests run many). */
function onProcessExit(fn: () => void): () => void {
  if (!hooked) {
    process.once('exit', () => {
      for (const f of atExit) {
        try {
          f();
        } catch {
          // Exiting anyway: one failed wipe must not keep the others from running.
        }
      }
    });
    hooked = true;
  }
  atExit.add(fn);
  return () => atExit.delete(fn);
}
