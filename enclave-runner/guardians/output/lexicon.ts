import { COMMON_WORD_STEMS } from './data/common-words.js';
import { bloomHas } from './bloom.js';
import { NAME_BLOOM, NAME_BLOOM_BITS, NAME_BLOOM_HASHES } from './data/name-bloom.js';

/**
 * Word-level lexicon for the name heuristics: accent folding, common English vocabulary (a word that is
 * in the dictionary is weak evidence of a name), and a Bloom filter over ~200k personal names (given
 * names and surnames of many cultures). Data provenance: see the headers of the files in `data/`.
 */

const FOLD_SPECIAL: Readonly<Record<string, string>> = { ø: 'o', ł: 'l', đ: 'd', ð: 'd', þ: 'th', æ: 'ae', œ: 'oe', ß: 'ss', ı: 'i', ŀ: 'l', ħ: 'h' };
const PLAIN = /^[a-z]*$/;
const MARKS = /\p{M}/gu;
const SPECIALS = /[øłđðþæœßıŀħ]/g;
const APOSTROPHES = /[’`´]/g;

/** Lower case without diacritics ("Jørgensen" -> "jorgensen", "Þórunn" -> "thorunn"). */
export function fold(word: string): string {
  const lower = word.toLowerCase();
  if (PLAIN.test(lower)) return lower;
  return lower.normalize('NFKD').replace(MARKS, '').replace(SPECIALS, (c) => FOLD_SPECIAL[c] ?? c).replace(APOSTROPHES, "'");
}

function stemsOf(words: string): Set<string> {
  const out = new Set<string>();
  for (const w of words.split('|')) if (w.length > 0) out.add(w);
  return out;
}

const COMMON = stemsOf(COMMON_WORD_STEMS);

/** Inflection rules undone before a dictionary look-up: [suffix, replacement]. */
const SUFFIXES: ReadonlyArray<readonly [string, string]> = [
  ['s', ''], ['es', ''], ['ies', 'y'], ['ed', ''], ['ed', 'e'], ['ied', 'y'], ['ing', ''], ['ing', 'e'], ['ly', ''], ['ness', ''], ['ment', ''], ['ments', ''],
];

/** True when the (lower-case, folded) word, or the word without a regular inflection, is common English. */
export function isCommonWord(lower: string): boolean {
  if (COMMON.has(lower)) return true;
  for (const [suf, rep] of SUFFIXES) {
    if (lower.length - suf.length >= 3 && lower.endsWith(suf) && COMMON.has(lower.slice(0, lower.length - suf.length) + rep)) return true;
  }
  return false;
}

let bloomBits: Uint8Array | null = null;

function bits(): Uint8Array {
  bloomBits ??= new Uint8Array(Buffer.from(NAME_BLOOM, 'base64'));
  return bloomBits;
}

/** True when the folded word is (with ~1% false positives) in the list of personal names. */
export function isKnownName(folded: string): boolean {
  if (folded.length < 2) return false;
  return bloomHas(bits(), folded, NAME_BLOOM_BITS, NAME_BLOOM_HASHES);
}

/**
 * Surname and given-name shapes of many languages (patronymics, Slavic, Nordic, Greek, Georgian, Armenian,
 * Armenian, Finnish endings); they make an unknown capitalised word a likely personal name.
 */
const NAME_SHAPE =
  /(?:[^aeiou]ov|[^aeiou]ova|[^aeiou]ev|[^aeiou]eva|yev|yeva|iev|ieva|ovich|evich|ovna|evna|ovic|evic|vic|[^aeiou]ski|[^aeiou]ska|[^aeiou]sky|skaya|skiy|[^aeiou]cki|[^aeiou]cka|wicz|czyk|czak|sson|dottir|poulos|opoulou|akis|idis|iadis|escu|eanu|shvili|dze|enko|chuk|oglu|zade|bayev|bekov|[aeiouy]nen|strom|qvist|kvist|[^aeiou]yan)$/;

export function hasNameShape(folded: string): boolean {
  return folded.length >= 4 && NAME_SHAPE.test(folded);
}
