import { CONFUSABLES } from './confusables.js';

/** What the normalisation layer changed, so a verdict can say why a disguised prompt was caught. */
export interface NormaliseFindings {
  /** Zero-width, bidi-control, soft-hyphen and C0/C1 control characters removed. */
  readonly invisibleRemoved: number;
  /** Look-alike letters folded to ASCII. */
  readonly confusablesFolded: number;
  /** Words mixing Latin with Cyrillic or Greek letters (a spoofing tell; legitimate words rarely do). */
  readonly mixedScriptWords: number;
  /** Words in which digits or symbols stood for letters (1gn0re -> ignore). */
  readonly leetWords: number;
  /** Text hidden in Unicode tag characters (U+E0020..E007E), "ASCII smuggling"; empty when none. */
  readonly hiddenTagText: string;
}

/** The normalised views of one input. */
export interface Normalised {
  /** NFKC, invisibles removed, confusables folded, whitespace collapsed (line breaks kept), lower case. */
  readonly text: string;
  /** `text` with leetspeak folded inside words that mix letters and digits/symbols. */
  readonly folded: string;
  readonly findings: NormaliseFindings;
}

const TAG_CHARS = /[\u{e0000}-\u{e007f}]/gu;
const WORD = /[\p{L}\p{N}@$]+/gu;
const LATIN = /[a-z]/i;
const CYRILLIC_GREEK = /[\u0370-\u03ff\u0400-\u052f]/;
const LEET: Readonly<Record<string, string>> = { '0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't', '8': 'b', '@': 'a', $: 's' };
const LEET_CHARS = /[0134578@$]/;
const HAS_LETTER = /\p{L}/u;

/** Normalises `raw` for the rule and classifier layers; cost is linear in the input length. */
export function normalise(raw: string): Normalised {
  let invisibleRemoved = 0;
  let hiddenTagText = '';
  let text = raw;
  let confusablesFolded = 0;
  let mixedScriptWords = 0;
  if (hasNonAscii(text)) {
    text = text.replace(TAG_CHARS, (c) => {
      const cp = c.codePointAt(0)! - 0xe0000;
      if (cp >= 0x20 && cp < 0x7f) hiddenTagText += String.fromCharCode(cp);
      invisibleRemoved++;
      return '';
    });
    text = text.normalize('NFKC');
    const folded = foldConfusables(text);
    text = folded.text;
    confusablesFolded = folded.count;
    mixedScriptWords = folded.mixed;
  }
  const visible = stripInvisible(text);
  invisibleRemoved += text.length - visible.length;
  text = visible;
  // Line breaks survive (they end sentences for the windowed classifier); other whitespace runs become one space.
  text = text.replace(/[^\S\n]+/g, ' ').replace(/ ?\n[\n ]*/g, '\n').trim().toLowerCase();
  const leet = foldLeet(text);
  return { text, folded: leet.text, findings: { invisibleRemoved, confusablesFolded, mixedScriptWords, leetWords: leet.count, hiddenTagText } };
}

function hasNonAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return true;
  return false;
}

/**
 * Zero-width characters, joiners, bidi embeddings/overrides/isolates, BOM, soft hyphen, Mongolian vowel
 * separator, interlinear annotations, and C0/C1 controls other than tab, line feed and carriage return:
 * all invisible, all used to split a keyword past a filter.
 */
function isInvisible(c: number): boolean {
  if (c < 0x20) return c !== 9 && c !== 10 && c !== 13;
  if (c < 0x7f) return false;
  return (
    c <= 0x9f || c === 0xad || c === 0x180e || (c >= 0x200b && c <= 0x200f) || (c >= 0x202a && c <= 0x202e) || (c >= 0x2060 && c <= 0x2064) ||
    (c >= 0x2066 && c <= 0x206f) || c === 0xfeff || (c >= 0xfff9 && c <= 0xfffb)
  );
}

function stripInvisible(s: string): string {
  let i = 0;
  while (i < s.length && !isInvisible(s.charCodeAt(i))) i++;
  if (i === s.length) return s;
  let out = s.slice(0, i);
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!isInvisible(c)) out += s[i];
  }
  return out;
}

/**
 * Folds look-alikes inside mixed-script words always, and everywhere when the text is mostly Latin: a
 * Russian or Greek prompt keeps its letters, an English prompt with a Cyrillic "о" does not.
 */
function foldConfusables(text: string): { text: string; count: number; mixed: number } {
  let latin = 0;
  let other = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i) | 0x20;
    if (c >= 0x61 && c <= 0x7a) latin++;
    else if (text.charCodeAt(i) >= 0x370 && text.charCodeAt(i) < 0x530) other++;
  }
  if (other === 0 && !/[ıȷɑɩɪᴀ-ᴢʙɢʜʟɴʀʏꜱ]/.test(text)) return { text, count: 0, mixed: 0 };
  const mostlyLatin = latin >= other;
  let count = 0;
  let mixed = 0;
  const out = text.replace(WORD, (word) => {
    const isMixed = LATIN.test(word) && CYRILLIC_GREEK.test(word);
    if (isMixed) mixed++;
    if (!isMixed && !mostlyLatin) return word;
    let w = '';
    for (const ch of word) {
      const to = CONFUSABLES.get(ch.codePointAt(0)!);
      if (to === undefined) w += ch;
      else {
        w += to;
        count++;
      }
    }
    return w;
  });
  return { text: out, count, mixed };
}

/** Folds leetspeak only inside words that hold at least two letters, so numbers and "3rd" stay put. */
function foldLeet(text: string): { text: string; count: number } {
  if (!LEET_CHARS.test(text)) return { text, count: 0 };
  let count = 0;
  const out = text.replace(WORD, (word) => {
    if (!LEET_CHARS.test(word) || !HAS_LETTER.test(word) || letterCount(word) < 2 || /^\d+(?:st|nd|rd|th|s|k|m|x|px|gb|mb|kb|am|pm)$/.test(word)) return word;
    count++;
    let w = '';
    for (const ch of word) w += LEET[ch] ?? ch;
    return w;
  });
  return { text: out, count };
}

function letterCount(word: string): number {
  let n = 0;
  for (const ch of word) if (HAS_LETTER.test(ch)) n++;
  return n;
}
