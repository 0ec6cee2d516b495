import { COUNTRIES, REGIONS, STREET_SUFFIX_WORDS } from './gazetteer.js';
import { fold, isCommonWord } from './lexicon.js';
import type { Span } from './spans.js';

/**
 * Postal addresses by shape. A street part starts with a house number ("221 Baker Street", "05405
 * Wesselényi u. 94."), a military or post-office box form ("PSC 0725, Box 6031", "USNS Bergman", "P.O. Box
 * 287"), a street name followed by its number after an address cue or at a line start ("lives on Via Tasso
 * 129", "Dalbraut 99"), or an intersection ("the corner of Kuusiku 7 and Alexander Flat"). It extends over
 * the flat, city, region code, postal code and country on the same line and over the short lines below
 * that look like the rest of an address. A heuristic: addresses written as prose, or without a number, are
 * missed. All scanning is bounded per candidate (at most one line of 400 characters and 6 lines below).
 */
const HOUSE = /(?<![\w.,/-])\d{1,6}[A-Za-z]?(?:,? \d{1,6}[A-Za-z]?)? (?=\S)/g;
const MILITARY = /(?<![\w-])(?:(?:USNS|USNV|USS|USCGC|usns|usnv|uss|uscgc) (?=[\p{L}])|(?:PSC|psc) \d{1,5},? ?(?:Box|box) \d{1,5}|(?:Unit|unit) \d{1,5},? ?(?:Box|box) \d{1,5}|(?:P\.? ?O\.? ?(?:Box|box)|PO Box|Postbox|Post Office Box|Box) \d{1,6}(?![\w-]))/gu;
const CORNER = /(?<![\w-])(?:[Tt]he )?corner of (?=\S)/g;
// A street name then its number, where an address may begin: line start, after ": ", or after an address cue.
const NAMED =
  /(?:^|(?<=\n[^\S\n]{0,8}|: |\b(?:at|on|to|in|is|of|and|address|lives on|live on|located on|located at|side of|enter on|entrance on|find us at|find me at)[ \t]))(?:(?:ul|al|u|r|c|avda|av|str|pl|rr)\. ?|C\/ ?|\p{Lu})/gmu;

const TOKEN = /\S+/g;
const TRAIL = /[,.;:!?)"”]+$/;
const NUMBER = /^#?\d{1,6}[A-Za-z]?(?:\/\d{1,5}[A-Za-z]?)?$|^\d{1,4}(?:st|nd|rd|th)$/;
const UNIT = /^(?:apt|apartment|suite|ste|unit|flat|floor|fl|box|room|rm|no|nr|bldg|building|dept|#)$/i;
const PARTICLE = /^(?:de|del|della|delle|dei|degli|di|da|do|dos|das|du|des|la|le|les|van|von|der|den|ten|ter|y|e|i|na|nad|pod|am|an|im|op|aan|bij|ul|al|u|r|c|el|al|sur|sous|lès|les)$/;
const CAP = /^\(?\p{Lu}[\p{L}\p{M}'’().\-/]*$/u;
const INITIALS = /^(?:\p{Lu}\.){1,3}$/u;
const CODE = /^[A-Z]{2,3}$/;
const LOWER = /^[\p{Ll}][\p{L}\p{M}'’-]*$/u;
const POSTAL = /^(?:\d{3,6}(?:-\d{3,4})?|[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}|[A-Z]{1,2}\d[A-Z\d]?|\d[A-Z]{2}|[A-Z]\d[A-Z]|\d[A-Z]\d|\d{2}-\d{3}|\d{3} \d{2})$/;
const STOP = /^(?:and|is|was|are|the|for|to|in|at|on|but|so|it|i|we|you|he|she|they|with|from|which|that|where|when|because|if|or|as|by|of|a|an|serves|near|please|can|could|would|will|after|before|for|this|my|your|our|their|his|her|its|then|than|there|here|until|since|during|every|each)$/i;
const ORG_SUFFIX = /^(?:inc|incorporated|ltd|limited|llc|llp|plc|gmbh|corp|corporation|co|company|group|holdings)$/i;
const CAP_FUNCTION = /^(?:of|the|and|to|for|with|you're|you|your|we|our|i|is|are|was|in|on|at|by|but|or|not|supposed|secretly|love|hate)$/i;
const MONTHS = /^(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?|monday|tuesday|wednesday|thursday|friday|saturday|sunday)$/i;

interface Scan {
  readonly end: number;
  readonly words: number;
  readonly numbers: number;
  readonly streetWord: boolean;
  readonly unit: boolean;
  readonly place: boolean;
  readonly bad: boolean;
  /** Capitalised or lower-case non-number words before the first number. */
  readonly leadWords: number;
  readonly leadCommon: number;
}

function isStreetWord(core: string): boolean {
  const f = fold(core.replace(/\.$/, ''));
  if (STREET_SUFFIX_WORDS.has(f)) return true;
  // Compound street names: "Ziegelgasse", "Hansinegata", "Sludevej", "Kiannonkatu", "Nybyvägen".
  return f.length >= 7 && /(?:strasse|gasse|weg|allee|platz|katu|kuja|tie|vej|gade|gatan|gata|vagen|vag|veien|vegen|laan|straat|plein|kade|gracht|utca|ulica|ulitsa|caddesi|sokak|sokagi|stræde|straede|brekka|braut|gotu|gata|vegur|stigur|rinne|polku|strada|vagur)$/.test(f);
}

/**
 * Scans address tokens on one line from `from`. `lowerText`: the whole text is lower case, so lower-case
 * words that are not common English may be street and place names.
 */
function scanLine(text: string, from: number, lineEnd: number, lowerText: boolean, maxTokens = 16): Scan {
  let end = from;
  let words = 0;
  let numbers = 0;
  let streetWord = false;
  let unit = false;
  let place = false;
  let bad = false;
  let leadWords = 0;
  let leadCommon = 0;
  let count = 0;
  let prevNumber = false;
  TOKEN.lastIndex = from;
  for (let m = TOKEN.exec(text); m !== null && m.index < lineEnd && count < maxTokens; m = TOKEN.exec(text)) {
    count++;
    const raw = m[0];
    const trail = TRAIL.exec(raw)?.[0] ?? '';
    let core = raw.slice(0, raw.length - trail.length);
    if (core.startsWith('(') && !core.includes(')') && raw.includes(')')) core = raw.slice(0, raw.indexOf(')') + 1);
    if (core.length === 0) {
      if (raw === ',' && count === 1) continue;
      break;
    }
    const withDot = trail.startsWith('.') ? `${core}.` : core;
    const f = fold(core);
    let kind: 'num' | 'unit' | 'street' | 'particle' | 'cap' | 'code' | 'lower' | null = null;
    if (NUMBER.test(core) || POSTAL.test(core)) kind = 'num';
    else if (UNIT.test(core)) kind = 'unit';
    else if (isStreetWord(core) && (CAP.test(core) || LOWER.test(core))) kind = 'street';
    else if (PARTICLE.test(core)) kind = 'particle';
    else if (CODE.test(core)) kind = 'code';
    else if (CAP.test(core) || INITIALS.test(withDot)) kind = 'cap';
    else if (LOWER.test(core) && !STOP.test(core) && (lowerText || (!isCommonWord(f) && numberSoon(text, m.index + raw.length, lineEnd)))) kind = 'lower';
    if (kind === null) break;
    // "Via Tasso 129 street", "Chrzanowska 61 St.": a street word after the house number of a named street is not part of it.
    if (kind === 'street' && prevNumber && leadWords > 0 && numbers === 1 && words === leadWords) break;
    if (kind === 'cap') {
      if (CAP_FUNCTION.test(core) || MONTHS.test(core) || ORG_SUFFIX.test(core)) {
        bad = true;
        break;
      }
    }
    if (kind === 'lower' && isCommonWord(f) && !streetWord) break;
    prevNumber = kind === 'num' && /^\d{1,5}[A-Za-z]?$/.test(core);
    if (kind === 'num') numbers++;
    else {
      words++;
      if (numbers === 0 && (kind === 'cap' || kind === 'lower')) {
        leadWords++;
        if (isCommonWord(f)) leadCommon++;
      }
    }
    if (kind === 'street') streetWord = true;
    if (kind === 'unit') unit = true;
    if (COUNTRIES.has(f) || REGIONS.has(f)) place = true;
    end = m.index + core.length;
    // A sentence ends here unless the dot belongs to an abbreviation, an initial or a Hungarian house number.
    if (/[?!;]/.test(trail)) break;
    if (trail.startsWith('.') && !(kind === 'street' || kind === 'unit' || kind === 'particle' || INITIALS.test(withDot) || /^\d{1,4}$/.test(core) || core.length <= 3)) break;
    if (trail.startsWith('.') && /^\d{1,4}$/.test(core)) end = m.index + core.length + 1;
    if (trail.includes(')') && !core.endsWith(')')) break;
  }
  return { end, words, numbers, streetWord, unit, place, bad, leadWords, leadCommon };
}

/** A house number or a street word within the next two tokens ("Árpád fejedelem útja 3", "Stensås terrasse 38"). */
function numberSoon(text: string, from: number, lineEnd: number): boolean {
  const rest = text.slice(from, Math.min(lineEnd, from + 60));
  const m = /^ (\S+)(?: (\S+))?/.exec(rest);
  if (m === null) return false;
  const ok = (t: string | undefined) => t !== undefined && (/^\d{1,5}[.,]?$/.test(t) || isStreetWord(t.replace(TRAIL, '')));
  return ok(m[1]) || (ok(m[2]) && LOWER.test(m[1]!) && !isCommonWord(fold(m[1]!)));
}

/** LOCATION spans of postal addresses. */
export function findAddressSpans(text: string): Span[] {
  const lowerText = !/\p{Lu}/u.test(text);
  const found: Span[] = [];
  // Characters already inside an address: later candidates starting there are skipped (O(1) per check).
  const inside = new Uint8Array(text.length + 1);
  const add = (start0: number, end: number, detector: string) => {
    if (end <= start0) return;
    // A flat written first: "Apt 4B, 55 West 23rd Street".
    const unitFirst = /(?:^|[\s:])((?:Apt|Apartment|Flat|Suite|Unit|Ste)\.? ?#?(?:[\w-]{1,5},? )?)$/.exec(text.slice(Math.max(0, start0 - 24), start0));
    const start = unitFirst === null ? start0 : start0 - unitFirst[1]!.length;
    const full = extendLines(text, end, lowerText);
    found.push({ start, end: full, type: 'LOCATION', detector });
    for (let i = start; i < full && inside[i] === 0; i++) inside[i] = 1;
  };
  const covered = (at: number) => inside[at] === 1;

  for (const m of text.matchAll(CORNER)) {
    const s = corner(text, m.index, m.index + m[0].length, lowerText);
    if (s !== null) add(m.index, s, 'intersection');
  }
  for (const m of text.matchAll(MILITARY)) {
    if (covered(m.index)) continue;
    const from = m.index + m[0].length;
    const lineEnd = indexOrEnd(text, '\n', from);
    const scan = scanLine(text, from, lineEnd, lowerText, 8);
    add(m.index, Math.max(from - (m[0].endsWith(' ') ? 1 : 0), scan.end), 'po-box-military');
  }
  for (const m of text.matchAll(HOUSE)) {
    if (covered(m.index)) continue;
    const from = m.index + m[0].length;
    const lineEnd = indexOrEnd(text, '\n', from);
    const scan = scanLine(text, from, lineEnd, lowerText);
    if (scan.bad || scan.words === 0) continue;
    const cue = ADDRESS_CUE.test(text.slice(Math.max(0, m.index - 40), m.index));
    const continued = extendLines(text, scan.end, lowerText) > scan.end;
    const lead = scan.leadWords;
    // "5 Musicians Of The 70s" is a title, "3 cats and 2 dogs" a count: ask for a street word, a flat,
    // a second number after a name, a place, address lines below, or an address cue before.
    const shaped = scan.streetWord || scan.unit || scan.place || continued || (scan.numbers >= 1 && lead > scan.leadCommon) || (cue && lead > scan.leadCommon);
    if (!shaped) continue;
    if (lead > 0 && lead === scan.leadCommon && !scan.streetWord && !scan.unit && !continued) continue;
    add(m.index, scan.end, 'street-address');
  }
  for (const m of text.matchAll(NAMED)) {
    const at = m.index;
    if (covered(at)) continue;
    const lineEnd = indexOrEnd(text, '\n', at);
    const scan = scanLine(text, at, lineEnd, lowerText);
    if (scan.bad || scan.numbers === 0 || scan.leadWords + (scan.streetWord ? 1 : 0) === 0) continue;
    // The first number must follow at most five name words: "Via dei Fiorentini 17", "Joaquin Suarez 2906".
    const head = firstNumberPrefix(text, at, lineEnd);
    if (head === null) continue;
    const uncommon = head.words.filter((w) => !isCommonWord(fold(w)) && !MONTHS.test(w)).length;
    if (!head.street && uncommon === 0) continue;
    if (head.words.some((w) => MONTHS.test(w) || CAP_FUNCTION.test(w))) continue;
    add(at, scan.end, 'street-name-number');
  }
  return found;
}

const ADDRESS_CUE = /(?:\baddress(?:es)?(?: is)?:?|\bat|\bto|\bon|\bin|\bis|\bof|\blives? (?:at|on)|\blocated (?:at|on)|\bship(?:ped)? to|\bsend (?:it )?to|\bdeliver(?:ed)? to|\bmail(?:ed)? to|\bmeet (?:me|you|us) at|\boffice is at|\bare|\bwith)\s*$/i;

function firstNumberPrefix(text: string, at: number, lineEnd: number): { words: string[]; street: boolean } | null {
  const words: string[] = [];
  let street = false;
  TOKEN.lastIndex = at;
  for (let m = TOKEN.exec(text); m !== null && m.index < lineEnd && words.length <= 6; m = TOKEN.exec(text)) {
    const core = m[0].replace(TRAIL, '');
    if (/^\d{1,5}[A-Za-z]?(?:\/\d{1,5}[A-Za-z]?)?$/.test(core)) return words.length === 0 || words.length > 5 ? null : { words, street };
    if (/[,;:!?]$/.test(m[0]) || (m[0].endsWith('.') && !isStreetWord(core) && core.length > 3)) return null;
    if (isStreetWord(core)) street = true;
    else if (!PARTICLE.test(core) && !CAP.test(core)) return null;
    if (!PARTICLE.test(core)) words.push(core);
  }
  return null;
}

/** "the corner of Dalbraut 99 and Frederikke Coves": two street parts joined by "and". */
function corner(text: string, start: number, from: number, lowerText: boolean): number | null {
  const lineEnd = indexOrEnd(text, '\n', from);
  const a = scanLine(text, from, lineEnd, lowerText, 8);
  if (a.words === 0) return null;
  const join = /^ (?:and|&) /.exec(text.slice(a.end, a.end + 6));
  if (join === null) return null;
  const bFrom = a.end + join[0].length;
  const b = scanLine(text, bFrom, lineEnd, lowerText, 8);
  if (b.words === 0) return start === from ? null : b.end;
  return b.end;
}

/** Swallows following short lines that look like the rest of an address (after a bullet, a blank line at most once). */
function extendLines(text: string, end: number, lowerText: boolean): number {
  let at = end;
  let lastGood = end;
  let blank = false;
  for (let i = 0; i < 6; i++) {
    const nl = indexOrEnd(text, '\n', at);
    if (nl >= text.length || text.charCodeAt(nl) !== 10 || text.slice(at, nl).trim().length > 0) break;
    const next = indexOrEnd(text, '\n', nl + 1);
    const line = text.slice(nl + 1, next);
    if (line.trim().length === 0) {
      if (blank) break;
      blank = true;
      at = nl + 1;
      continue;
    }
    if (line.length > 80 || line.includes(':') || line.includes('@')) break;
    const lead = /^[\s?*•·>–-]*/.exec(line)![0].length;
    const took = continuation(text, nl + 1 + lead, next, lowerText);
    if (took === null || (blank && !took.strong)) break;
    blank = false;
    at = took.end;
    lastGood = at;
    if (took.partial) break;
  }
  return lastGood;
}

/** One continuation line (or its address-like beginning): city, region code, postal code, country, flat. */
function continuation(text: string, from: number, lineEnd: number, lowerText: boolean): { end: number; strong: boolean; partial: boolean } | null {
  let end = from;
  let tokens = 0;
  let strong = false;
  let ok = 0;
  TOKEN.lastIndex = from;
  let m = TOKEN.exec(text);
  for (; m !== null && m.index < lineEnd && tokens < 8; m = TOKEN.exec(text)) {
    tokens++;
    const raw = m[0];
    const trail = TRAIL.exec(raw)?.[0] ?? '';
    let core = raw.slice(0, raw.length - trail.length).replace(/^,/, '');
    if (core.startsWith('(') && raw.includes(')')) core = raw.slice(0, raw.indexOf(')') + 1);
    if (core.length === 0) {
      if (raw === ',') continue;
      break;
    }
    const f = fold(core.replace(/[()]/g, ''));
    const postal = POSTAL.test(core) || /^#?\d{1,6}$/.test(core);
    const good =
      postal ||
      UNIT.test(core) ||
      (CAP.test(core) && !CAP_FUNCTION.test(core)) ||
      CODE.test(core) ||
      (/^[a-z]{2,3}$/.test(core) && !STOP.test(core)) ||
      (LOWER.test(core) && (COUNTRIES.has(f) || REGIONS.has(f) || (lowerText && !isCommonWord(f) && !STOP.test(core)))) ||
      PARTICLE.test(core);
    if (!good) break;
    ok++;
    if (postal || COUNTRIES.has(f) || REGIONS.has(f) || CODE.test(core)) strong = true;
    end = m.index + core.length;
    if (/[?!;]/.test(trail) || (trail.startsWith('.') && core.length > 3)) break;
  }
  if (ok === 0) return null;
  const rest = text.slice(end, lineEnd).trim();
  const partial = rest.length > 0;
  // A line that is only partly address-like must at least end in a postal or region code.
  if (partial && !strong) return null;
  if (ok === 1 && /^[a-z]{2,3}$/.test(text.slice(from, end)) && !text.slice(Math.max(0, from - 3), from).includes(',')) return null;
  return { end, strong, partial };
}

/** The next `ch` at or after `from`, looking at most 400 characters ahead (bounded work per candidate). */
function indexOrEnd(text: string, ch: string, from: number): number {
  const limit = Math.min(text.length, from + 400);
  const code = ch.charCodeAt(0);
  for (let i = from; i < limit; i++) if (text.charCodeAt(i) === code) return i;
  return limit;
}
