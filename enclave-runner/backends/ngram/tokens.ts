/** Word-level tokens of the n-gram model: lower-case words and single punctuation marks. */

export const BOS = '<s>';
export const EOS = '</s>';

const TOKEN = /[\p{L}\p{N}]+(?:'[\p{L}]+)?|[.,;:!?]/gu;
const PUNCTUATION = /^[.,;:!?]$/;

/** Sentences of a text, each a list of tokens (a sentence ends at . ! or ?). */
export function sentences(text: string): string[][] {
  const out: string[][] = [];
  let current: string[] = [];
  for (const m of text.toLowerCase().matchAll(TOKEN)) {
    current.push(m[0]);
    if (m[0] === '.' || m[0] === '!' || m[0] === '?') {
      out.push(current);
      current = [];
    }
  }
  if (current.length > 0) out.push(current);
  return out;
}

export function tokenize(text: string): string[] {
  return [...text.toLowerCase().matchAll(TOKEN)].map((m) => m[0]);
}

/** How a token is printed after `previous`: a space before words, none before punctuation, capitals at sentence starts. */
export function render(token: string, previous: string | null): string {
  if (PUNCTUATION.test(token)) return token;
  const sentenceStart = previous === null || previous === '.' || previous === '!' || previous === '?';
  const word = sentenceStart ? token.charAt(0).toUpperCase() + token.slice(1) : token;
  return previous === null ? word : ` ${word}`;
}
