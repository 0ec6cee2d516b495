import type { Span } from './spans.js';

/**
 * Postal addresses by shape: a line (or the rest of a line) that starts with a house number and a
 * capitalised word, or a military/PO form, extended over the short lines that follow it when they look
 * like address lines (flat, city, region code, country, postal code). A heuristic: addresses written
 * as prose, or without a number, are missed.
 */
const STREET_START = /(?<![\w.,-])(?:\d{1,6}[A-Za-z]?(?:,? \d{1,6})? (?=[\p{Lu}\p{N}])|(?:USNS|USNV|USS|USCGC) (?=\p{Lu})|PSC \d{1,5}, ?Box \d{1,5}|Unit \d{1,5},? Box \d{1,5}|(?:P\.? ?O\.? )?Box \d{1,6}\b|(?<=^|\n|: )\p{Lu}[\p{L}\p{M}'’-]{1,30}(?: \p{Lu}[\p{L}\p{M}'’-]{1,30}){0,2} (?=\d{1,5}[A-Za-z]?\b))/gu;
const MILITARY = /^(?:USNS|USNV|USS|USCGC|PSC|Unit \d|P\.? ?O\.? Box|Box)/;
const STREET_WORDS = /(?:street|st\.?|road|rd\.?|avenue|ave\.?|lane|ln\.?|drive|dr\.?|way|boulevard|blvd\.?|court|ct\.?|place|pl\.?|crescent|terrace|close|square|parkway|highway|hwy|strasse|straße|gasse|weg|allee|platz|ring|katu|tie|vej|gade|gatan|vägen|väg|laan|straat|plein|kade|rue|avenue|chemin|via|viale|piazza|calle|avenida|rua|ulica|utca|útja|út|náměstí|trg)$/i;
const TOKEN = /\S+/g;
const ADDRESS_TOKEN = /^(?:\d{1,6}[A-Za-z]?[.,]?|[\p{Lu}][\p{L}\p{M}'’().-]*,?|(?:[Aa]pt|APT|[Ss]uite|SUITE|[Uu]nit|[Bb]ox|[Ff]loor|[Ff]l|[Nn]o|[Nn]r)\.?|#\d+,?|[A-Z]{2},?)$/u;
const UNIT = /^(?:apt|suite|unit|box|floor|flat)\.?$/i;
// One token of a continuation line: a capitalised or upper-case word, a postal code, a short region code, a flat.
const CONTINUATION_WORD = /^(?:[\p{Lu}(][\p{L}\p{M}'’().-]*|\d{2,6}(?:-\d{2,4})?|[a-z]{2,3}|(?:[Aa]pt|[Ss]uite|[Uu]nit|[Bb]ox|[Ff]loor|[Ff]lat)\.?|#?\d{1,6})$/u;
const STOP_WORDS = /^(?:and|is|was|are|the|for|to|in|at|on|but|so|it|i|we|you|he|she|they|with|from|which|that|where|when|because|if|or|as|by|of|a|an|serves|near|please|can|could|would|will)$/i;

/** LOCATION spans of postal addresses. */
export function findAddressSpans(text: string): Span[] {
  const out: Span[] = [];
  let after = 0;
  for (const m of text.matchAll(STREET_START)) {
    if (m.index < after) continue;
    const end = extendLine(text, m.index, m.index + m[0].length);
    if (end === null) continue;
    const full = extendLines(text, end);
    out.push({ start: m.index, end: full, type: 'LOCATION', detector: 'street-address' });
    after = full;
  }
  return out;
}

/** Extends the street part over address-like tokens on its line; null when it does not look like one. */
function extendLine(text: string, start: number, from: number): number | null {
  const lineEnd = indexOrEnd(text, '\n', from);
  let end = from;
  let words = 0;
  let lowerRun = 0;
  let sawStreetWord = false;
  let numbers = 0;
  if (MILITARY.test(text.slice(start, from)) && !/\d{1,6} $/.test(text.slice(start, from))) return extendMilitary(text, from, lineEnd);
  TOKEN.lastIndex = from;
  for (let m = TOKEN.exec(text); m !== null && m.index < lineEnd; m = TOKEN.exec(text)) {
    let tok = m[0];
    const stop = /[?!;]|\.$/.test(tok) && !/^(?:apt|st|rd|ave|no|nr|dr|ln|ct|pl|blvd|fl)\.$/i.test(tok) && !/^\d{1,6}\.$/.test(tok);
    tok = tok.replace(/[?!;.,]+$/, '');
    const lower = tok.length > 0 && !ADDRESS_TOKEN.test(tok);
    if (/\d/.test(tok) && m.index > from) numbers++;
    if (UNIT.test(tok)) sawStreetWord = true;
    if (lower && (STOP_WORDS.test(tok) || lowerRun >= 2 || !/^[\p{L}\p{M}'’-]+$/u.test(tok))) break;
    lowerRun = lower ? lowerRun + 1 : 0;
    if (STREET_WORDS.test(tok)) sawStreetWord = true;
    if (!lower) end = m.index + m[0].replace(/[?!;,]+$/, '').length;
    words++;
    if (stop || words >= 12) break;
  }
  if (end === from || words === 0) return null;
  const startsWithWord = /^\p{Lu}/u.test(text.slice(start, from));
  if (startsWithWord && !STREET_WORDS.test(text.slice(start, from).trim().split(' ').pop() ?? '')) return null;
  // "5 Musicians Of The 70s" is a title, not an address: ask for a street word, a second number or a flat,
  // or address lines below.
  if (!sawStreetWord && numbers === 0 && !startsWithWord && !hasContinuation(text, end)) return null;
  return end;
}

function extendMilitary(text: string, from: number, lineEnd: number): number {
  const rest = text.slice(from, lineEnd);
  const m = /^(?: \p{Lu}[\p{L}'’-]*)*/u.exec(rest);
  return from + (m === null ? 0 : m[0].length);
}

function hasContinuation(text: string, end: number): boolean {
  return extendLines(text, end) > end;
}

/** Swallows following short lines that look like the rest of an address. */
function extendLines(text: string, end: number): number {
  let at = end;
  let lastGood = end;
  let blank = 0;
  for (let i = 0; i < 6; i++) {
    const nl = indexOrEnd(text, '\n', at);
    if (nl >= text.length || text.charCodeAt(nl) !== 10 || text.slice(at, nl).trim().length > 0) break;
    const next = indexOrEnd(text, '\n', nl + 1);
    const line = text.slice(nl + 1, next);
    const trimmed = line.trim();
    if (trimmed.length === 0 && i === 0 && blank === 0) {
      blank++;
      at = nl + 1;
      continue;
    }
    if (trimmed.length === 0 || trimmed.length > 60 || trimmed.includes(':') || !continuation(trimmed)) {
      at = lastGood;
      break;
    }
    at = nl + 1 + line.trimEnd().length;
    lastGood = at;
  }
  return lastGood;
}

function continuation(line: string): boolean {
  const tokens = line.split(/[\s,]+/).filter((t) => t.length > 0);
  if (tokens.length === 0 || tokens.length > 6) return false;
  if (!tokens.every((t) => CONTINUATION_WORD.test(t.replace(/[.?!]$/, '')))) return false;
  // A lone lower-case code ("nan") is not a line of its own address unless it follows a comma.
  return tokens.some((t) => !/^[a-z]{2,3}$/.test(t)) || line.startsWith(',');
}

/** The next `ch` at or after `from`, looking at most 400 characters ahead (bounded work per candidate). */
function indexOrEnd(text: string, ch: string, from: number): number {
  const limit = Math.min(text.length, from + 400);
  const code = ch.charCodeAt(0);
  for (let i = from; i < limit; i++) if (text.charCodeAt(i) === code) return i;
  return limit;
}
