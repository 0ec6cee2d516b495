import { pointer } from './pointer.js';

type Frame = { kind: 'object'; path: string; keys: Set<string>; expectKey: boolean; key: string } | { kind: 'array'; path: string; index: number };

/**
 * JSON.parse keeps the last of two equal keys and drops the first without a word, so
 * `{"claim": "a", "equals": "x", "equals": "y"}` would silently test only "y". This scans text that JSON.parse
 * already accepted and returns the JSON pointer of every repeated key (up to `limit`).
 */
export function findDuplicateKeys(text: string, limit: number): string[] {
  const found: string[] = [];
  const stack: Frame[] = [];
  let i = 0;
  while (i < text.length && found.length < limit) {
    const c = text[i];
    if (c === '{' || c === '[') {
      const path = childPath(stack.at(-1));
      stack.push(c === '{' ? { kind: 'object', path, keys: new Set(), expectKey: true, key: '' } : { kind: 'array', path, index: 0 });
    } else if (c === '}' || c === ']') {
      stack.pop();
    } else if (c === ',') {
      const top = stack.at(-1);
      if (top?.kind === 'object') top.expectKey = true;
      else if (top) top.index++;
    } else if (c === '"') {
      const end = stringEnd(text, i);
      noteKey(stack.at(-1), text.slice(i, end + 1), found);
      i = end;
    }
    i++;
  }
  return found;
}

function noteKey(top: Frame | undefined, token: string, found: string[]): void {
  if (top?.kind !== 'object' || !top.expectKey) return;
  const key = JSON.parse(token) as string;
  if (top.keys.has(key)) found.push(pointer(top.path, key));
  top.keys.add(key);
  top.key = key;
  top.expectKey = false;
}

function childPath(parent: Frame | undefined): string {
  if (!parent) return '';
  return parent.kind === 'object' ? pointer(parent.path, parent.key) : pointer(parent.path, parent.index);
}

/** Index of the closing quote of the string starting at `start` (the text is known-valid JSON). */
function stringEnd(text: string, start: number): number {
  let j = start + 1;
  while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
  return j;
}
