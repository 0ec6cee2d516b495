/**
 * Server-sent events as OpenAI streams them: `data: <json>` lines separated by blank lines, ended by
 * `data: [DONE]`. Yields each event's data; comments and other fields are skipped.
 */
export async function* sseData(chunks: AsyncIterable<Buffer | string>): AsyncGenerator<string> {
  let buffer = '';
  const decoder = new TextDecoder();
  for await (const chunk of chunks) {
    buffer += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    let end = eventEnd(buffer);
    while (end !== null) {
      const data = dataOf(buffer.slice(0, end.at));
      buffer = buffer.slice(end.at + end.length);
      if (data !== null) yield data;
      end = eventEnd(buffer);
    }
  }
  const rest = dataOf(buffer);
  if (rest !== null) yield rest;
}

function eventEnd(buffer: string): { at: number; length: number } | null {
  const m = /\r?\n\r?\n/.exec(buffer);
  return m ? { at: m.index, length: m[0].length } : null;
}

function dataOf(event: string): string | null {
  const lines = event.split(/\r?\n/).filter((l) => l.startsWith('data:'));
  if (lines.length === 0) return null;
  return lines.map((l) => l.slice(5).replace(/^ /, '')).join('\n');
}
