import { CITIES, COUNTRIES, GIVEN_NAMES, HONORIFICS, NOT_NAME, REGIONS } from './gazetteer.js';
import type { Span } from './spans.js';

/**
 * Person and place names by a lightweight method: runs of capitalised words, classified by the words
 * around them (honorifics, "my name is", "said", "in", "from"), a small gazetteer of given names and
 * places, and a stop-list of capitalised words that are not names. It is a heuristic, not NER: it misses
 * lower-case names and names that are also common words, and it can take an unknown brand for a person.
 */
interface Word {
  readonly text: string;
  readonly start: number;
  readonly end: number;
}

const WORD = /[\p{L}\p{M}]+(?:['’-][\p{L}\p{M}]+)*/gu;
const UPPER_START = /^\p{Lu}/u;
const ALL_UPPER = /^[\p{Lu}\p{M}'’-]+$/u;
const PERSON_BEFORE = /(?:\bmy name is|\bname is|\bname'?s|\bi'?m|\bi am|\bthis is|\bcalled|\bnamed|\bname:|\bdear|\bhi|\bhello|\bhey|\bthanks,?|\bthank you,?|\bsaid|\bsays|\bby|\bwith|\bassistant to|\bcontact|\bask|\btell|\bmeet|\bmet|\bheard|\bfrom:|\bto:|\bcc:|\battn:?|\bsigned|\bsincerely,?|\bregards,?|\bpartner'?s name|\bunder|\bfeatures|\bstarring|\bdirected by|\bsung by|\bfounders?:?|\bco-founders?:?|\bmembers:|\bspeak to|\bsend it to|\bchange it to|\bcorrect it to|\bcalls me|\bjoin accounts with|\bfollow up with|\bwritten by|\bplayer|\bactor|\bactress|\bsinger|\bpresident|\bceo|\bdirector|\bmanager|\bdoctor|\bnurse|\bagent|\bcolleague|\bfriend|\bwife|\bhusband|\bson|\bdaughter|\bmother|\bfather|\bbrother|\bsister)\s*$/i;
const PERSON_AFTER = /^(?:\s+(?:said|says|wrote|writes|told|asked|replied|listed|is a|was a|has been|joined|works|worked|lives|lived|spent|speak)\b|,\s+(?:the|a|an|our|my|who)\b|\s*\()/i;
const PLACE_BEFORE = /(?:\bin|\bfrom|\bto|\bnear|\bvisit|\bvisiting|\bserving|\baround|\bacross|\boutside|\binside|\bthrough|\bvia|\btowards?|\bback to|\bmoved to|\blive in|\blives in|\bbased in|\boriginally from|\bcity of|\bcapital of)\s*$/i;
const ORG_AFTER = /^\s+(?:inc|ltd|llc|plc|gmbh|corp|corporation|company|group|orchestra|university|bank|foundation|institute|hospital|holdings|partners|associates|club|band)\b/i;
const ORG_BEFORE = /(?:\bwork for|\bworks for|\bworked for|\bwork at|\bworks at|\bemployed by|\bjoined|\bcompany|\bfirm|\bat the|\bbecame)\s*$/i;

function isInitial(w: string): boolean {
  return w.length === 1 && UPPER_START.test(w);
}

/** Capitalised (or an initial); all-caps words only from four letters (shorter ones are acronyms). */
function isNameWord(w: string): boolean {
  return UPPER_START.test(w) && (w.length === 1 || w.length >= 4 || !ALL_UPPER.test(w));
}

const HONORIFIC_BEFORE = /\b(?:mr|mrs|ms|miss|mx|dr|prof|sir|dame|madam|mme|mlle|lord|lady|rev|herr|frau)\.?\s*$/i;
const SPEAKER_AFTER = /^:[ \t]+\S/;
const VOCATIVE_AFTER = /^,\s+(?:can|could|please|would|will|do|did|are|is|i|we|you|thanks|thank|how|what|why|where|when|let|have)\b/i;
const VOCATIVE_BEFORE = /,\s*$/;
const LIST_JOIN = /^(?:,\s*|\s+and\s+|,\s+and\s+|\s*&\s*)$/;

function placeKind(phrase: string): boolean {
  const p = phrase.toLowerCase();
  return COUNTRIES.has(p) || REGIONS.has(p) || CITIES.has(p);
}

/** The start of the line holding `at`, looking back at most 200 characters (bounded work per word). */
function lineStartNear(text: string, at: number): number {
  const floor = Math.max(0, at - 200);
  for (let i = at - 1; i >= floor; i--) if (text.charCodeAt(i) === 10) return i + 1;
  return floor;
}

function shouted(text: string, lineStart: number, start: number, end: number): boolean {
  const limit = Math.min(text.length, end + 200);
  let lineEnd = end;
  while (lineEnd < limit && text.charCodeAt(lineEnd) !== 10) lineEnd++;
  const rest = text.slice(lineStart, start) + text.slice(end, lineEnd);
  const upper = rest.match(/\p{Lu}/gu)?.length ?? 0;
  const lower = rest.match(/\p{Ll}/gu)?.length ?? 0;
  return upper > lower;
}

/** Groups capitalised words separated only by a space (or an initial's dot) into runs. */
function runs(text: string): Word[][] {
  const words = [...text.matchAll(WORD)].map((m) => ({ text: m[0].replace(/['’]s$/, ''), start: m.index, end: m.index + m[0].replace(/['’]s$/, '').length }));
  const out: Word[][] = [];
  let cur: Word[] = [];
  for (const w of words) {
    const prev = cur[cur.length - 1];
    const gap = prev === undefined ? '' : text.slice(prev.end, w.start);
    const joined = prev !== undefined && (gap === ' ' || (isInitial(prev.text) && gap === '. '));
    if (!isNameWord(w.text) || (prev !== undefined && !joined)) {
      if (cur.length > 0) out.push(cur);
      cur = [];
    }
    if (isNameWord(w.text)) cur.push(w);
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

/** Splits a run at stop-list words and honorifics, keeping which honorific preceded each part. */
function parts(run: Word[]): Array<{ words: Word[]; honorific: boolean }> {
  const out: Array<{ words: Word[]; honorific: boolean }> = [];
  let cur: Word[] = [];
  let honorific = false;
  for (const w of run) {
    const lower = w.text.toLowerCase();
    if (HONORIFICS.has(lower)) {
      if (cur.length > 0) out.push({ words: cur, honorific });
      cur = [];
      honorific = true;
      continue;
    }
    if (NOT_NAME.has(lower) && !placeKind(lower)) {
      if (cur.length > 0) out.push({ words: cur, honorific });
      cur = [];
      honorific = false;
      continue;
    }
    cur.push(w);
  }
  if (cur.length > 0) out.push({ words: cur, honorific });
  return out;
}

/** PERSON and LOCATION spans found by the heuristic. */
export function findNameSpans(text: string): Span[] {
  const out: Span[] = [];
  const unknown: Array<{ start: number; end: number }> = [];
  for (const run of runs(text)) {
    const place = gazetteerPhrase(text, run);
    if (place !== null) {
      out.push(place);
      continue;
    }
    for (const part of parts(run)) {
      const span = classify(text, part.words, part.honorific);
      if (span !== null) out.push(span);
      else if (part.words.length === 1 && !isInitial(part.words[0]!.text)) unknown.push({ start: part.words[0]!.start, end: part.words[0]!.end });
    }
  }
  return [...out, ...propagate(text, out, unknown), ...lowerCaseNames(text, out)];
}

/** A run that is exactly a place name of the gazetteer ("South Africa", "New York"). */
function gazetteerPhrase(text: string, run: Word[]): Span | null {
  const phrase = text.slice(run[0]!.start, run[run.length - 1]!.end);
  return placeKind(phrase) ? { start: run[0]!.start, end: run[run.length - 1]!.end, type: 'LOCATION', detector: 'place-gazetteer' } : null;
}

/**
 * Unclassified single capitalised words become PERSON when they repeat a word of a detected person
 * ("Bonifacy Kaczmarek ... Kaczmarek") or sit in a list with one ("Eklund, Michael and Hodge").
 */
function propagate(text: string, found: readonly Span[], unknown: ReadonlyArray<{ start: number; end: number }>): Span[] {
  const persons = found.filter((s) => s.type === 'PERSON');
  if (persons.length === 0) return [];
  const known = new Set<string>();
  for (const p of persons) for (const w of text.slice(p.start, p.end).split(/[\s.]+/)) if (w.length > 1) known.add(w);
  const out: Span[] = [];
  const all = [...persons];
  for (const u of unknown) {
    const w = text.slice(u.start, u.end);
    if (known.has(w)) {
      const s: Span = { ...u, type: 'PERSON', detector: 'coreference' };
      out.push(s);
      all.push(s);
    }
  }
  let grew = true;
  while (grew) {
    grew = false;
    for (const u of unknown) {
      if (all.some((p) => p.start === u.start)) continue;
      if (all.some((p) => LIST_JOIN.test(gapBetween(text, p, u)))) {
        const s: Span = { ...u, type: 'PERSON', detector: 'name-list' };
        out.push(s);
        all.push(s);
        grew = true;
      }
    }
  }
  return out;
}

function gapBetween(text: string, a: { start: number; end: number }, b: { start: number; end: number }): string {
  return a.end <= b.start ? text.slice(a.end, b.start) : b.end <= a.start ? text.slice(b.end, a.start) : 'x';
}

const LOWER_CUE = /(?:\bmy name is|\bname is|\bi'?m|\bwith|\bheard|\bto|\bfrom|\bdear|\bhi|\bhello|\bthanks|\bcontact|\bcall|\bask|\bmeet|\bme|^)\s*$/i;
const AMBIGUOUS_GIVEN = new Set(['mark', 'may', 'june', 'april', 'rose', 'will', 'grace', 'hope', 'joy', 'faith', 'victoria', 'virginia', 'georgia', 'paris', 'jordan', 'austin', 'chase', 'hunter', 'carter', 'bill', 'pat', 'sue', 'ann', 'jan', 'ali', 'li', 'min', 'jun', 'per', 'eva', 'ida', 'liv', 'kari', 'ola', 'ole', 'anne', 'jean', 'art', 'dean', 'don', 'max']);
const LOWER_WORD = /[\p{Ll}\p{M}]+(?:['’-][\p{Ll}\p{M}]+)*/gu;

/** Lower-case "patricia desrosiers": a gazetteer given name after a cue, plus the next word as surname. */
function lowerCaseNames(text: string, found: readonly Span[]): Span[] {
  const out: Span[] = [];
  for (const m of text.matchAll(LOWER_WORD)) {
    const w = m[0];
    if (!GIVEN_NAMES.has(w) || AMBIGUOUS_GIVEN.has(w)) continue;
    const start = m.index;
    if (found.some((s) => s.start <= start && start < s.end)) continue;
    const lineStart = lineStartNear(text, start);
    if (!LOWER_CUE.test(text.slice(Math.max(lineStart, start - 25), start))) continue;
    const next = /^ ([\p{Ll}\p{M}]{2,}(?:['’-][\p{Ll}\p{M}]+)*)/u.exec(text.slice(start + w.length, start + w.length + 40));
    const surname = next !== null && !NOT_NAME.has(next[1]!) && !/^(?:is|was|and|or|said|says|in|at|on|for|so|has|had|will|would|can|could|to)$/.test(next[1]!);
    out.push({ start, end: start + w.length + (surname ? next[0].length : 0), type: 'PERSON', detector: 'lower-case-given-name' });
  }
  return out;
}

function classify(text: string, words: Word[], honorific: boolean): Span | null {
  // An initial alone or trailing ("J." with no surname) is not a name by itself.
  while (words.length > 0 && isInitial(words[words.length - 1]!.text) && words.length > 1) words = words.slice(0, -1);
  if (words.length === 0 || (words.length === 1 && isInitial(words[0]!.text))) return null;
  const start = words[0]!.start;
  const end = words[words.length - 1]!.end;
  const phrase = text.slice(start, end);
  const lineStart = lineStartNear(text, start);
  const before = text.slice(Math.max(lineStart, start - 40), start);
  const after = text.slice(end, end + 30);
  const sentenceStart = /(?:^|[.!?]\s+|["“(]\s*)$/.test(text.slice(Math.max(0, start - 3), start)) || start === lineStart;
  const given = GIVEN_NAMES.has(words[0]!.text.toLowerCase());
  const middleInitial = words.length >= 3 && words.slice(1, -1).some((w) => isInitial(w.text));
  const upper = words.every((w) => ALL_UPPER.test(w.text));
  if (placeKind(phrase) || words.every((w) => placeKind(w.text))) return { start, end, type: 'LOCATION', detector: 'place-gazetteer' };
  if (ORG_AFTER.test(after) || ORG_BEFORE.test(before)) return null;
  if (honorific || HONORIFIC_BEFORE.test(before)) return { start, end, type: 'PERSON', detector: 'honorific' };
  if (middleInitial) return { start, end, type: 'PERSON', detector: 'middle-initial' };
  // An all-caps word is a place only in mixed-case text: in shouted text every word is all-caps.
  if (upper && shouted(text, lineStart, start, end)) return null;
  if (PLACE_BEFORE.test(before) && !given) return { start, end, type: 'LOCATION', detector: 'place-context' };
  if (upper) return null;
  if (PERSON_BEFORE.test(before) || PERSON_AFTER.test(after)) return { start, end, type: 'PERSON', detector: 'person-context' };
  if (start === lineStart && SPEAKER_AFTER.test(after) && words.length <= 3) return { start, end, type: 'PERSON', detector: 'dialogue-speaker' };
  if (words.length <= 2 && ((sentenceStart && VOCATIVE_AFTER.test(after)) || (VOCATIVE_BEFORE.test(before) && /^[?!.]/.test(after)))) return { start, end, type: 'PERSON', detector: 'vocative' };
  if (given && (words.length >= 2 || !sentenceStart)) return { start, end, type: 'PERSON', detector: 'given-name' };
  if (words.length >= 2) return { start, end, type: 'PERSON', detector: 'capitalised-run' };
  return null;
}
