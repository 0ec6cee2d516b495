import { BRANDS, CITIES, COMMON_GIVEN, COUNTRIES, DEMONYMS, GIVEN_NAMES, HONORIFICS, NOT_NAME, ORG_WORDS, REGIONS, ROLE_WORDS } from './gazetteer.js';
import { fold, hasNameShape, isCommonWord, isKnownName } from './lexicon.js';
import type { Span } from './spans.js';

/**
 * Person and place names by a lightweight method: runs of capitalised words (with name particles such as
 * "van de"), described word by word by a lexicon (common English word? a known personal name of ~200k? a
 * surname shape? non-English letters?) and classified by the words around them (honorifics, "my name is",
 * "said", "lives in", "arrived at", "City, Country"), gazetteers of places, and stop-lists of capitalised
 * words that are not names (organisation words, speaker labels). It is a heuristic, not NER: it misses names
 * that are common words without context, and it can take an unknown brand that looks like a name for a person.
 */
interface Word {
  readonly text: string;
  readonly start: number;
  readonly end: number;
}

interface Lex {
  readonly lower: string;
  readonly initial: boolean;
  readonly common: boolean;
  readonly given: boolean;
  /** A known name, a given name, a surname shape, or non-English letters, and not a common word. */
  readonly nameish: boolean;
}

const WORD = /[\p{L}\p{M}]+(?:['’-][\p{L}\p{M}]+)*/gu;
const UPPER_START = /^\p{Lu}/u;
const ALL_UPPER = /^[\p{Lu}\p{M}'’-]+$/u;
const NON_ASCII_LETTER = /[^\p{ASCII}]/u;
const PARTICLES = new Set(['van', 'von', 'de', 'der', 'den', 'del', 'della', 'dei', 'di', 'da', 'das', 'do', 'dos', 'du', 'la', 'le', 'ten', 'ter', 'bin', 'ibn', 'al', 'el', 'y', 'zu', 'af', 'nad', 'pod', 'na']);

// Person cues. VERY_STRONG allows a common word as the name ("my name is Rose").
const VERY_STRONG_PERSON_BEFORE = /(?:\bmy name is|\bname is|\bname'?s|\bnamed|\bcalls me|\bcall me|\bdear|\bmaiden name is|\bname:|\b(?:full|first|last|given|family|sur|maiden|user|customer|client|patient|employee|applicant|candidate|contact|account holder|cardholder|card holder|policyholder|beneficiary|recipient|sender|passenger|guest|tenant|owner|author|signed|signature|witness|attn|attention)(?: name)?\s*:)\s*$/i;
const STRONG_PERSON_BEFORE =
  /(?:\bcalled|\bhi|\bhello|\bhey|\bthanks,?|\bthank you,?|\bsincerely,?|\bregards,?|\bsigned|\bfrom:|\bto:|\bcc:|\battn:?|\bsaid|\bsays|\basked|\btold|\bassistant to|\bsecretary to|\bspeak to|\bspeak with|\btalk to|\bsend it to|\bchange it to|\bcorrect it to|\bfollow up with|\bjoin accounts with|\bpartner'?s name|\b(?:directed|written|sung|performed|produced|composed|painted|created|founded|illustrated|edited|narrated|photographed|hosted|signed|approved|reviewed|prepared|submitted|authored) by|\bstarring|\bfeaturing|\bfeat\.|\bmarried(?: to)?|\bson of|\bdaughter of|\bwife of|\bhusband of|\bborn to|\bi'?m|\bi am|\bmeet|\bmet with|\bheard|\bfounders?:?|\bco-founders?:?|\bmembers:|\bgiven|\bhave you seen|\bsee you)\s*$/i;
const WEAK_PERSON_BEFORE =
  /(?:\bwith|\bby|\bask|\btell|\bcontact|\bunder|\bthis is|\bmet|\bsaw|\bplayer|\bactor|\bactress|\bsinger|\bsongwriter|\bwriter|\bauthor|\bartist|\bpoet|\bcomposer|\bpainter|\bcoach|\bfounder|\bchairman|\bchairwoman|\bminister|\bpresident|\bceo|\bcto|\bcfo|\bdirector|\bmanager|\bdoctor|\bnurse|\bagent|\bcolleague|\bfriend|\bboyfriend|\bgirlfriend|\bpartner|\bwife|\bhusband|\bson|\bdaughter|\bmother|\bfather|\bmom|\bdad|\bbrother|\bsister|\bcousin|\buncle|\baunt|\bneighbou?r|\bboss|\bcommenter|\breporter|\bjournalist|\beditor|\bproducer|\blawyer|\battorney|\bteacher|\bstudent|\bpatient|\bclient|\bcustomer|\bemployee|\bcandidate|\bwinner|\bcaptain)\s*$/i;
const STRONG_PERSON_AFTER =
  /^(?:\s+(?:said|says|wrote|writes|told|tells|asked|asks|replied|replies|explained|explains|added|adds|noted|notes|argued|claimed|claims|stated|states|commented|recalled|admitted|insisted|whispered|shouted|laughed|smiled|nodded|sighed|listed|points out|pointed out|was born|died|lives|lived|spent|speaks|spoke|joined|works|worked|married|thinks|thought|believes|wants|wanted|loves|loved|hates|likes|liked|has to|had to|had given|has given|just has|just had|is so|was so|is \d{1,3}|was \d{1,3})\b|,\s+(?:who|aged?|\d{1,3})\b|\s+\((?:\d{1,3}|born|aged?|née|nee)\b)/i;
const WEAK_PERSON_AFTER = /^(?:\s+(?:is a|was a|is an|was an|has been|had been|is from|was from|and (?:his|her) |agreed|went|came|called|visited|became|arrived|left|met|gave|took|made|wants|needs|is my|was my)\b|,\s+(?:the|a|an|our|my|his|her)\b)/i;
const HONORIFIC_BEFORE = /\b(?:mr|mrs|ms|miss|mx|dr|prof|sir|dame|madam|mme|mlle|lord|lady|rev|herr|frau)\.?\s*$/i;
const SPEAKER_AFTER = /^:[ \t]+\S/;
const VOCATIVE_AFTER = /^,\s+(?:can|could|please|would|will|do|did|are|is|i|we|you|thanks|thank|how|what|why|where|when|let|have|four|two|three)\b/i;
const VOCATIVE_BEFORE = /(?:,|\bleave me|\bthank you|\bthanks|\bhi|\bhello|\bhey|\bsorry|\bok|\bokay|\byes|\bno)\s*$/i;
const LIST_JOIN = /^(?:,\s*|\s+and\s+|,\s+and\s+|\s*&\s*)$/;

// Place cues.
const STRONG_PLACE_BEFORE =
  /(?:\blives? in|\bliving in|\bbased in|\blocated in|\bborn in|\bgrew up in|\braised in|\bmoved (?:here )?(?:to|from)|\bmoving to|\bmove to|\breturned to|\breturn to|\bback to|\barrived (?:at|in)|\barrive (?:at|in)|\barriving (?:at|in)|\btravell?(?:ing|ed)? to|\btrip to|\bflew (?:to|from)|\bfly to|\bflight to|\bvisit|\bvisiting|\bvisited|\boriginally from|\bcity of|\btown of|\bvillage of|\bcapital of|\bheadquartered in|\bnear|\boutside(?: of)?|\bserving|\bi am in|\bi'?m in|\bwe are in|\bwe'?re in|\bstay(?:ing|ed)? in|\bholidays? in|\bvacation in|\bdrove to|\bdriving to|\bhere from|\bcomes? from|\bcame from|\bnative of|\bresident of|\bsouthern|\bnorthern|\beastern|\bwestern|\bcentral|\bupstate|\bdowntown|\bsuburbs of|\boffice in|\bstore in|\bplant in|\bmeeting in|\bconference in|\bwork(?:s|ed)? in|\bstudied in|\bmet in|\bweather in|\bhotels? in|\bflights? to)\s*$/i;
const WEAK_PLACE_BEFORE = /(?:\bin|\bfrom|\bto|\bat|\baround|\bacross|\bthrough|\bvia|\btowards?|\binto|\bleaves?|\bleft)\s*$/i;
const PLACE_AFTER = /^(?:\s+(?:bridge|city|county|province|region|district|airport|station|harbou?r|village|town|area|municipality|suburb|neighbou?rhood|metropolitan|valley|river|was (?:super |really |so )?(?:fun|nice|beautiful|great|lovely) to visit|is (?:a|the) (?:city|town|village|country|capital|region))\b)/i;
const ORG_BEFORE = /(?:\bwork for|\bworks for|\bworked for|\bwork at|\bworks at|\bworked at|\bemployed by|\bemployed at|\bjoined|\bcompany|\bfirm|\bat the|\bbecame|\bsubsidiary of|\bacquired by|\bshares of|\bstock of|\bcustomers of|\bcustomer of|\bproduct of|\bbrand)\s*$/i;

function placeLevel(phrase: string): 0 | 1 | 2 {
  const p = fold(phrase);
  if (COUNTRIES.has(p) || REGIONS.has(p)) return 2;
  return CITIES.has(p) ? 1 : 0;
}

function isInitial(w: string): boolean {
  return w.length === 1 && UPPER_START.test(w);
}

/** Capitalised (or an initial); all-caps words only from four letters (shorter ones are acronyms). */
function isNameWord(w: string): boolean {
  return UPPER_START.test(w) && (w.length === 1 || w.length >= 4 || !ALL_UPPER.test(w));
}

function lex(w: string): Lex {
  const lower = fold(w);
  const initial = isInitial(w);
  const common = !initial && isCommonWord(lower);
  const given = GIVEN_NAMES.has(lower) || COMMON_GIVEN.has(lower);
  const nameish = given || (!initial && !common && (isKnownName(lower) || hasNameShape(lower) || NON_ASCII_LETTER.test(w)));
  return { lower, initial, common, given, nameish };
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

function stripPossessive(m: RegExpMatchArray): Word {
  const t = m[0].replace(/['’]s$/, '');
  return { text: t, start: m.index!, end: m.index! + t.length };
}

/**
 * Groups capitalised words into runs: separated by one or two spaces, an initial's ". ", or lower-case
 * name particles between two capitalised words ("Maika van de Noort").
 */
function runs(text: string): Word[][] {
  const out: Word[][] = [];
  let cur: Word[] = [];
  let pending: Word[] = [];
  const flush = () => {
    if (cur.length > 0) out.push(cur);
    cur = [];
    pending = [];
  };
  for (const m of text.matchAll(WORD)) {
    const w = stripPossessive(m);
    const prev = pending.length > 0 ? pending[pending.length - 1]! : cur[cur.length - 1];
    const gap = prev === undefined ? '' : text.slice(prev.end, w.start);
    const spaced = gap === ' ' || gap === '  ';
    const joined = prev !== undefined && (spaced || (pending.length === 0 && isInitial(prev.text) && (gap === '. ' || gap === '.')));
    if (isNameWord(w.text)) {
      if (!joined) flush();
      cur.push(...pending, w);
      pending = [];
      continue;
    }
    if (cur.length > 0 && joined && pending.length < 2 && PARTICLES.has(w.text)) {
      pending.push(w);
      continue;
    }
    flush();
  }
  flush();
  return out;
}

/** Splits a run at stop-list words, organisation words and honorifics, keeping which honorific preceded each part. */
function parts(run: Word[]): Array<{ words: Word[]; honorific: boolean; orgAfter: boolean }> {
  const out: Array<{ words: Word[]; honorific: boolean; orgAfter: boolean }> = [];
  let cur: Word[] = [];
  let honorific = false;
  const push = (orgAfter: boolean) => {
    while (cur.length > 0 && PARTICLES.has(cur[cur.length - 1]!.text)) cur.pop();
    while (cur.length > 0 && PARTICLES.has(cur[0]!.text)) cur.shift();
    if (cur.length > 0) out.push({ words: cur, honorific, orgAfter });
    cur = [];
  };
  for (const w of run) {
    const lower = fold(w.text);
    if (HONORIFICS.has(lower) && !isInitial(w.text)) {
      push(false);
      honorific = true;
      continue;
    }
    if (ORG_WORDS.has(lower) && cur.length > 0 && !isInitial(w.text)) {
      push(true);
      honorific = false;
      continue;
    }
    if ((NOT_NAME.has(lower) || ROLE_WORDS.has(lower) || BRANDS.has(lower) || DEMONYMS.has(lower)) && placeLevel(lower) === 0 && !isInitial(w.text)) {
      push(false);
      honorific = false;
      continue;
    }
    cur.push(w);
  }
  push(false);
  return out;
}

/** PERSON and LOCATION spans found by the heuristic. */
export function findNameSpans(text: string): Span[] {
  const out: Span[] = [];
  const unknown: Array<{ start: number; end: number }> = [];
  for (const whole of runs(text)) {
    const place = gazetteerPhrase(text, whole);
    if (place !== null) {
      out.push(place);
      continue;
    }
    for (const run of splitAtPlaces(text, whole, out)) for (const part of parts(run)) {
      if (part.orgAfter) continue;
      const span = classify(text, part.words, part.honorific);
      if (span !== null) out.push(span);
      else if (part.words.length === 1 && !isInitial(part.words[0]!.text)) unknown.push({ start: part.words[0]!.start, end: part.words[0]!.end });
    }
  }
  return [...out, ...propagate(text, out, unknown), ...lowerCaseNames(text, out)];
}

/**
 * A run that is exactly a country or region ("South Africa"), or a city ("New York"). A one-word city that is
 * also a personal name ("Victoria", "Jackson") is left to the context rules in `classify`.
 */
function gazetteerPhrase(text: string, run: Word[]): Span | null {
  const start = run[0]!.start;
  const end = run[run.length - 1]!.end;
  const level = placeLevel(text.slice(start, end));
  if (level === 0) return null;
  const before = text.slice(Math.max(lineStartNear(text, start), start - 40), start);
  if (VERY_STRONG_PERSON_BEFORE.test(before) || HONORIFIC_BEFORE.test(before)) return null;
  if (level === 1 && run.length === 1 && lex(run[0]!.text).nameish) return null;
  return { start, end, type: 'LOCATION', detector: 'place-gazetteer' };
}

/**
 * Country and region names inside a longer run ("Southern Czech Republic", "In New Zealand they") become
 * LOCATION spans of their own; the words around them are returned as separate runs.
 */
function splitAtPlaces(text: string, run: Word[], out: Span[]): Word[][] {
  if (run.length < 2) return [run];
  const pieces: Word[][] = [];
  const nameLike = run.map((w) => !NOT_NAME.has(fold(w.text)));
  const nameLikeCount = nameLike.filter(Boolean).length;
  let from = 0;
  for (let i = 0; i < run.length; i++) {
    for (let j = Math.min(run.length, i + 4); j >= i + 2 || (j === i + 1 && j > i); j--) {
      if (i === 0 && j === run.length) continue;
      const phrase = text.slice(run[i]!.start, run[j - 1]!.end);
      const level = placeLevel(phrase);
      const others = j - i === 1 && nameLikeCount - (nameLike[i] ? 1 : 0) > 0;
      if ((level === 2 && !others) || (level >= 1 && j - i >= 2)) {
        if (i > from) pieces.push(run.slice(from, i));
        out.push({ start: run[i]!.start, end: run[j - 1]!.end, type: 'LOCATION', detector: 'place-gazetteer' });
        from = j;
        i = j - 1;
        break;
      }
      if (j === i + 1) break;
    }
  }
  if (from === 0) return [run];
  if (from < run.length) pieces.push(run.slice(from));
  return pieces;
}

/**
 * Unclassified single capitalised words become PERSON when they repeat a word of a detected person
 * ("Bonifacy Kaczmarek ... Kaczmarek") or sit in a list with one ("Eklund, Michael and Hodge").
 */
function propagate(text: string, found: readonly Span[], unknown: ReadonlyArray<{ start: number; end: number }>): Span[] {
  const persons = found.filter((s) => s.type === 'PERSON');
  if (persons.length === 0 || unknown.length === 0) return [];
  const known = new Set<string>();
  for (const p of persons) for (const w of text.slice(p.start, p.end).split(/[\s.]+/)) if (w.length > 1) known.add(w.replace(/['’]s$/, ''));
  const out: Span[] = [];
  const all = [...persons];
  const taken = new Set<number>();
  for (const u of unknown) {
    const w = text.slice(u.start, u.end);
    if (known.has(w)) {
      const s: Span = { ...u, type: 'PERSON', detector: 'coreference' };
      out.push(s);
      all.push(s);
      taken.add(u.start);
    }
  }
  // Lists: at most a few rounds; neighbours are found by position (O(1) per word, bounded on hostile input).
  const endsAt = new Map<number, Span>();
  const startsAt = new Map<number, Span>();
  const index = (p: Span) => {
    endsAt.set(p.end, p);
    startsAt.set(p.start, p);
  };
  for (const p of all) index(p);
  const neighbour = (u: { start: number; end: number }): boolean => {
    for (let d = 1; d <= 8; d++) {
      const left = endsAt.get(u.start - d);
      if (left !== undefined && LIST_JOIN.test(text.slice(left.end, u.start))) return true;
      const right = startsAt.get(u.end + d);
      if (right !== undefined && LIST_JOIN.test(text.slice(u.end, right.start))) return true;
    }
    return false;
  };
  for (let round = 0; round < 4; round++) {
    let grew = false;
    for (const u of unknown) {
      if (taken.has(u.start)) continue;
      // An unknown word joins a list of persons only when the list already has two ("React, Vue and Angular" has none).
      const l = lex(text.slice(u.start, u.end));
      if (!l.nameish && (l.common || all.length < 2)) continue;
      if (neighbour(u)) {
        const s: Span = { ...u, type: 'PERSON', detector: 'name-list' };
        out.push(s);
        all.push(s);
        index(s);
        taken.add(u.start);
        grew = true;
      }
    }
    if (!grew) break;
  }
  return out;
}

const LOWER_CUE = /(?:\bfriend|\bcolleague|\bneighbou?r|\bboss|\bbrother|\bsister|\bwife|\bhusband|\bson|\bdaughter|\bmother|\bfather|\bcousin|\bpartner|\bteacher|\bdoctor|\bto|\bmy name is|\bname is|\bname'?s|\bnamed|\bcalls me|\bcall me|\bi'?m|\bi am|\bheard|\bmeet|\bmet|\bdear|\bhi|\bhello|\bhey|\bthanks|\bcontact|\bask|\bfollow up with|\bspeak to|\bspeak with|\btalk to|\bassistant to|\bleave me|\bsaid|\bchange it to|\bsend it to|\bmarried|\bwith)\s*$/i;
const LOWER_WORD = /[\p{Ll}\p{M}]+(?:['’-][\p{Ll}\p{M}]+)*/gu;
const LOWER_STOP = /^(?:is|was|and|or|said|says|in|at|on|for|so|has|had|will|would|can|could|to|but|the|a|an|speak|yet|from|of|who|here|there|please|too|again)$/;

/**
 * Lower-case names ("my name is vitoria", "have you heard nijito asano speak"): after a cue, a known
 * personal name that is not a common word, with the next word as surname when it is a name too.
 */
function lowerCaseNames(text: string, found: readonly Span[]): Span[] {
  const out: Span[] = [];
  for (const m of text.matchAll(LOWER_WORD)) {
    const w = m[0];
    if (w.length < 3) continue;
    const start = m.index;
    // Cheapest test first: most lower-case words are common English.
    const l = lex(w);
    if (!l.nameish || l.common) continue;
    const lineStart = lineStartNear(text, start);
    if (!LOWER_CUE.test(text.slice(Math.max(lineStart, start - 25), start))) continue;
    if (found.some((s) => s.start <= start && start < s.end)) continue;
    let end = start + w.length;
    const next = /^ (?:([\p{Ll}])\.? )?([\p{Ll}\p{M}]{2,}(?:['’-][\p{Ll}\p{M}]+)*)/u.exec(text.slice(end, end + 40));
    if (next !== null && !LOWER_STOP.test(next[2]!)) {
      const n = lex(next[2]!);
      if (n.nameish && !n.common) end += next[0].length;
    }
    out.push({ start, end, type: 'PERSON', detector: 'lower-case-name' });
  }
  return out;
}

function classify(text: string, words: Word[], honorific: boolean): Span | null {
  // An initial alone or trailing ("J." with no surname) is not a name by itself.
  while (words.length > 1 && isInitial(words[words.length - 1]!.text)) words = words.slice(0, -1);
  if (words.length === 0 || (words.length === 1 && isInitial(words[0]!.text))) return null;
  const start = words[0]!.start;
  const end = words[words.length - 1]!.end;
  const phrase = text.slice(start, end);
  const lineStart = lineStartNear(text, start);
  const before = text.slice(Math.max(lineStart, start - 40), start);
  const after = text.slice(end, end + 40);
  const sentenceStart = start === lineStart || /(?:^|[.!?:]\s+|["“(]\s*|^\W+\s)$/u.test(text.slice(Math.max(lineStart, start - 4), start));
  const lexes = words.map((w) => lex(w.text));
  const full = lexes.filter((l) => !l.initial);
  const allNameish = full.every((l) => l.nameish);
  const anyCommon = full.some((l) => l.common && !l.given);
  const firstGiven = lexes[0]!.given;
  const middleInitial = words.length >= 3 && lexes.slice(1, -1).some((l) => l.initial);
  const upper = words.every((w) => ALL_UPPER.test(w.text));
  const person = (detector: string): Span => ({ start, end, type: 'PERSON', detector });
  const location = (detector: string): Span => ({ start, end, type: 'LOCATION', detector });

  if (honorific || HONORIFIC_BEFORE.test(before)) return person('honorific');
  if (VERY_STRONG_PERSON_BEFORE.test(before)) return person('person-context');
  const level = placeLevel(phrase);
  const ambiguousCity = level === 1 && words.length === 1 && lexes[0]!.nameish;
  if ((level > 0 && !ambiguousCity) || words.every((w) => placeLevel(w.text) === 2)) return location('place-gazetteer');
  if (ORG_BEFORE.test(before) || /^\s+(?:inc|ltd|llc|plc|gmbh|corp|co)\b/i.test(after)) return null;
  if (/^ (?:Street|St\.?|Road|Rd\.?|Avenue|Ave\.?|Lane|Drive|Boulevard|Blvd|Way|Court|Place|Square|Highway|Parkway|Terrace)(?![\p{L}])/u.test(after)) return location('street-name');
  if (middleInitial && !anyCommon) return person('middle-initial');
  // An all-caps word is a place only in mixed-case text: in shouted text every word is all-caps.
  if (upper && shouted(text, lineStart, start, end)) return null;
  const strongPerson = STRONG_PERSON_BEFORE.test(before) || STRONG_PERSON_AFTER.test(after) || (start === lineStart && SPEAKER_AFTER.test(after) && words.length <= 3);
  if (strongPerson && (!anyCommon || firstGiven || (words.length >= 2 && lexes[0]!.nameish))) return person('person-context');
  const strongPlace = STRONG_PLACE_BEFORE.test(before) || PLACE_AFTER.test(after) || countryAfter(text, end);
  if (strongPlace && !(words.length >= 2 && allNameish && !upper && !countryAfter(text, end))) return location('place-context');
  if (anyCommon) return firstGiven && words.length >= 2 && !upper ? person('given-name') : null;
  const weakPlace = WEAK_PLACE_BEFORE.exec(before);
  if (weakPlace !== null && !/^\s*(?:'s|’s)/.test(text.slice(end, end + 3))) {
    const cue = weakPlace[0].trim().toLowerCase();
    if ((words.length >= 2 && allNameish) || firstGiven || (words.length >= 2 && cue !== 'in' && full.some((l) => l.nameish))) return person('person-name');
    if (ambiguousCity) return cue === 'in' ? location('place-context') : person('person-name');
    if (words.length === 1 && lexes[0]!.nameish && (cue === 'to' || cue === 'from' || cue === 'at')) return person('person-name');
    // "spent a year at Teradata", "is from Plotwatt": an unknown word after at/from is as often a company.
    if (words.length === 1 && (cue === 'at' || cue === 'from')) return null;
    return location('place-context');
  }
  if (upper) return null;
  const possessive = /^['’]s\s+\p{Ll}/u.test(after);
  const weakPerson = WEAK_PERSON_BEFORE.test(before) || WEAK_PERSON_AFTER.test(after) || possessive || (start === lineStart && SPEAKER_AFTER.test(after));
  if (words.length <= 2 && ((sentenceStart && VOCATIVE_AFTER.test(after)) || (VOCATIVE_BEFORE.test(before) && /^[?!.,]/.test(after)))) return person('vocative');
  if (weakPerson && (allNameish || !sentenceStart)) return person('person-context');
  if (words.length >= 2) return person(allNameish ? 'name-lexicon' : 'capitalised-run');
  if (!sentenceStart && allNameish) return person('name-lexicon');
  return null;
}

/** ", Country" or ", Region" right after the run ("Tallinn, Estonia"). */
function countryAfter(text: string, end: number): boolean {
  const m = /^,\s*(\p{Lu}[\p{L}\p{M}'’-]*(?: \p{Lu}[\p{L}\p{M}'’-]*){0,3})/u.exec(text.slice(end, end + 48));
  return m !== null && placeLevel(m[1]!) === 2;
}

