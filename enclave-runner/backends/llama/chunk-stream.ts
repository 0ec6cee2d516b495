/** What a generation reports: text as it becomes complete characters, and how many tokens it generated. */
export interface ChunkSink {
  text(text: string): void;
  tokens(n: number): void;
}

/**
 * Turns a callback-driven generation (node-llama-cpp's `onTextChunk` and `onToken`) into an async iterable
 * of one piece per token, as the backend interface promises (the API counts pieces as completion tokens):
 * a token that completes no character yet (part of a multi-byte character) yields an empty piece. Buffering
 * needs no back-pressure: it is bounded by max_tokens. When the consumer stops early (a guardian stopped the
 * stream, the client left), the generation is aborted.
 */
export async function* chunkStream(run: (sink: ChunkSink, signal: AbortSignal) => Promise<unknown>, outer?: AbortSignal): AsyncGenerator<string> {
  const stop = new AbortController();
  const onOuter = (): void => stop.abort();
  outer?.addEventListener('abort', onOuter, { once: true });
  const queue: string[] = [];
  let credits = 0;
  let wake: (() => void) | null = null;
  let finished = false;
  let failure: unknown = null;
  const notify = (): void => {
    wake?.();
    wake = null;
  };
  const sink: ChunkSink = {
    text: (text) => {
      if (text.length === 0) return;
      queue.push(text);
      notify();
    },
    tokens: (n) => {
      credits += n;
    },
  };
  const done = run(sink, stop.signal).then(
    () => {
      finished = true;
      notify();
    },
    (e: unknown) => {
      failure = e;
      finished = true;
      notify();
    },
  );
  try {
    while (true) {
      while (queue.length > 0) {
        credits--;
        yield queue.shift()!;
      }
      if (finished) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
    if (failure !== null && !stop.signal.aborted) throw failure;
    for (; credits > 0; credits--) yield '';
  } finally {
    stop.abort();
    outer?.removeEventListener('abort', onOuter);
    await done;
  }
}
