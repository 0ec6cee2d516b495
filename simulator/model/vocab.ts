/**
 * The character-level SentencePiece-style ("llama") vocabulary shared by the demo model and the tiny random
 * test models. Its layout follows Llama's own tokenizer so llama.cpp's SPM tokenizer needs no special case:
 * `<unk>`, `<s>`, `</s>`, then the 256 byte-fallback tokens, then one token per printable ASCII character
 * with the space spelled "▁" (U+2581). Anything else (newline, non-ASCII) falls back to UTF-8 byte tokens.
 * scripts/demo-model/train.py trains on exactly this list (it reads it from `vocab-json.ts`), so the ids here
 * are the ids the demo model's weights were trained on: change nothing without retraining.
 */

/** llama.cpp's `llama_token_type` values as stored in `tokenizer.ggml.token_type`. */
export const TOKEN_TYPE = { normal: 1, unknown: 2, control: 3, byte: 6 } as const;

export const SPM_SPACE = '\u2581';
export const UNK_ID = 0;
export const BOS_ID = 1;
export const EOS_ID = 2;
export const FIRST_BYTE_ID = 3;
export const FIRST_CHAR_ID = FIRST_BYTE_ID + 256;

export interface Vocabulary {
  readonly tokens: readonly string[];
  readonly scores: readonly number[];
  readonly tokenTypes: readonly number[];
  readonly bosId: number;
  readonly eosId: number;
  readonly unkId: number;
}

function printableAscii(): string[] {
  const out: string[] = [];
  for (let c = 0x20; c <= 0x7e; c++) out.push(c === 0x20 ? SPM_SPACE : String.fromCharCode(c));
  return out;
}

export function characterVocabulary(): Vocabulary {
  const tokens: string[] = ['<unk>', '<s>', '</s>'];
  const tokenTypes: number[] = [TOKEN_TYPE.unknown, TOKEN_TYPE.control, TOKEN_TYPE.control];
  const scores: number[] = [0, 0, 0];
  for (let b = 0; b < 256; b++) {
    tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
    tokenTypes.push(TOKEN_TYPE.byte);
    scores.push(0);
  }
  // SentencePiece scores are log-probabilities used only to order merges; with single characters there are
  // no merges, so a descending rank (as in a real .model file) is enough.
  printableAscii().forEach((ch, i) => {
    tokens.push(ch);
    tokenTypes.push(TOKEN_TYPE.normal);
    scores.push(-i);
  });
  return { tokens, scores, tokenTypes, bosId: BOS_ID, eosId: EOS_ID, unkId: UNK_ID };
}

/** Token ids for `text` exactly as llama.cpp's SPM tokenizer gives them with `add_space_prefix` off (no BOS). */
export function encodeCharacters(text: string): number[] {
  const ids: number[] = [];
  for (const ch of text) {
    // llama.cpp escapes spaces to U+2581 before the lookup, so a literal U+2581 is a space too.
    const code = ch === SPM_SPACE ? 0x20 : ch.codePointAt(0)!;
    if (code >= 0x20 && code <= 0x7e) {
      ids.push(FIRST_CHAR_ID + code - 0x20);
    } else {
      for (const b of Buffer.from(ch, 'utf8')) ids.push(FIRST_BYTE_ID + b);
    }
  }
  return ids;
}
