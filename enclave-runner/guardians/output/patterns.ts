import { isIPv4, isIPv6 } from 'node:net';
import { ibanValid, luhnValid } from './checksums.js';
import type { EntityType, Span } from './spans.js';

/**
 * Structured PII: every candidate regex is linear (disjoint character classes, bounded repeats) and
 * every candidate is then validated (checksum, prefix, range or nearby context) before it is redacted.
 */
const EMAIL = /[A-Za-z0-9._%+-]{1,64}@(?:[A-Za-z0-9-]{1,63}\.){1,8}[A-Za-z]{2,24}\b/g;
const CARD = /(?<![\w.-])\d(?:[ -]?\d){11,18}(?![\w-])/g;
const IBAN = /\b[A-Za-z]{2}\d{2}(?: ?[A-Za-z0-9]{4}){2,7}(?: ?[A-Za-z0-9]{1,3})?\b/g;
const SSN = /(?<![\w-])(\d{3})([- ]?)(\d{2})\2(\d{4})(?![\w-])/g;
const NINO = /\b[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b/g;
const SIN = /(?<![\w-])\d{3}[- ]?\d{3}[- ]?\d{3}(?![\w-])/g;
const IPV4 = /(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w]|\.\d)/g;
const IPV6 = /(?<![\w:.])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?::\d{1,3}(?:\.\d{1,3}){3})?(?![\w:])/g;
const PHONE = /(?<![\w+./-])(?:\+\d{1,3}[ .-]?)?(?:(?:\d{1,3}[ .-]?)?\(\d{1,5}\)[ .-]?)?(?:\(0\)[ .-]?)?\d{1,15}(?:(?:[ .-]|\/(?=\d{4}))\d{1,8}){0,6}(?: ?(?:x|ext\.?|extension|#) ?\d{1,6})?(?![\w/-]|\.\d)/g;
const DRIVER_LICENSE = /\bdriv(?:er|ing)'?s? licen[cs]e(?: (?:number|no\.?|#))?(?: is)?:? ?([A-Za-z0-9][A-Za-z0-9-]{4,19})\b/gi;

const PHONE_CONTEXT = /(?:phone|mobile|cell|tel\b|telephone|fax|desk|call|reach|contact|number|whatsapp|sms|text me|registered|dial|answering|ring)/i;
const STRICT_PHONE_CONTEXT = /(?:phone|mobile|cell|tel|telephone|fax|desk|whatsapp|sms|call me|call us|dial)\b[^\d\n]{0,12}$/i;
const CARD_CONTEXT = /(?:card|cc\b|visa|mastercard|amex|credit|debit|payment)/i;
const SSN_CONTEXT = /(?:ssn|social security|social sec)/i;
const SIN_CONTEXT = /(?:\bsin\b|social insurance)/i;
const YEAR_GROUPS = /^(?:(?:19|20)\d\d[ .-]?)+$/;

/** Finds structured PII in `text`. */
export function findPatternSpans(text: string): Span[] {
  const out: Span[] = [];
  const add = (start: number, end: number, type: EntityType, detector: string) => out.push({ start, end, type, detector });
  for (const m of text.matchAll(EMAIL)) add(m.index, m.index + m[0].length, 'EMAIL_ADDRESS', 'email');
  for (const m of text.matchAll(IBAN)) if (ibanValid(m[0])) add(m.index, m.index + m[0].length, 'IBAN_CODE', 'iban-mod97');
  for (const m of text.matchAll(CARD)) if (isCard(m[0], text, m.index)) add(m.index, m.index + m[0].length, 'CREDIT_CARD', 'card-luhn');
  for (const m of text.matchAll(SSN)) if (isSsn(m, text)) add(m.index, m.index + m[0].length, 'US_SSN', 'ssn');
  for (const m of text.matchAll(NINO)) if (!/^(?:BG|GB|NK|KN|TN|NT|ZZ)/.test(m[0])) add(m.index, m.index + m[0].length, 'UK_NINO', 'uk-nino');
  for (const m of text.matchAll(SIN)) if (luhnValid(m[0]) && SIN_CONTEXT.test(before(text, m.index, 40))) add(m.index, m.index + m[0].length, 'CA_SIN', 'ca-sin-luhn');
  for (const m of text.matchAll(DRIVER_LICENSE)) {
    const id = m[1]!;
    if (/\d/.test(id)) add(m.index + m[0].length - id.length, m.index + m[0].length, 'US_DRIVER_LICENSE', 'driver-license-context');
  }
  for (const m of text.matchAll(IPV4)) if (isIPv4(m[0])) add(m.index, m.index + m[0].length, 'IP_ADDRESS', 'ipv4');
  for (const m of text.matchAll(IPV6)) if (isIPv6(m[0]) && /[0-9a-f]{2}/i.test(m[0])) add(m.index, m.index + m[0].length, 'IP_ADDRESS', 'ipv6');
  for (const m of text.matchAll(PHONE)) if (isPhone(m[0], text, m.index)) add(m.index, m.index + m[0].length, 'PHONE_NUMBER', 'phone');
  return out;
}

function before(text: string, at: number, n: number): string {
  return text.slice(Math.max(0, at - n), at);
}

const CARD_PREFIX = /^(?:4|5[1-5]|2[2-7]|3[47]|6011|65|64[4-9]|30[0-5]|36|38|35|2131|1800|50|5[6-9]|6[0-9])/;

function isCard(candidate: string, text: string, at: number): boolean {
  const digits = candidate.replace(/\D/g, '');
  if (digits.length < 12 || digits.length > 19 || !luhnValid(digits) || /^(\d)\1+$/.test(digits)) return false;
  const context = CARD_CONTEXT.test(before(text, at, 40));
  // 12-digit Maestro numbers exist, but so do many other 12-digit numbers: only with card context.
  if (digits.length === 12) return context;
  return CARD_PREFIX.test(digits) || context;
}

function isSsn(m: RegExpMatchArray, text: string): boolean {
  const [area, , group, serial] = [m[1]!, m[2]!, m[3]!, m[4]!];
  if (area === '000' || area === '666' || area[0] === '9' || group === '00' || serial === '0000') return false;
  // Without separators nine digits are just a number: only context makes them an SSN.
  return m[2] !== '' || SSN_CONTEXT.test(before(text, m.index!, 40));
}

function isPhone(candidate: string, text: string, at: number): boolean {
  const digits = candidate.replace(/ ?(?:x|ext\.?|extension|#) ?\d{1,6}$/i, '').replace(/\D/g, '');
  if (digits.length < 7 || digits.length > 15) return false;
  if (YEAR_GROUPS.test(candidate) || /^\d{4}-\d{2}-\d{2}/.test(candidate) || /^\d{1,2}[./-]\d{1,2}[./-]\d{2,4}$/.test(candidate)) return false;
  // Groups of one digit only happen after a country code or as a leading trunk or area digit.
  if (/(?:^|[ .-])\d(?:[ .-]|$)/.test(candidate.replace(/^\+\d{1,3}[ .-]?\d?[ .-]?|^1[ .-]|^\d[ .-]?\(/, '')) && !/^\+/.test(candidate)) return false;
  const groups = candidate.split(/[ .-]/).length;
  const strongFormat = /^\+|\(|x|ext/i.test(candidate) || /^\d{3}-\d{3}-\d{4}$/.test(candidate) || (groups >= 3 && digits.length >= 9 && !/\d{5,}/.test(candidate));
  if (strongFormat) return true;
  // One unseparated run of digits is a phone number only right after a phone word ("Fax: 9498777106").
  if (/^\d+$/.test(candidate) && digits.length >= 10) return STRICT_PHONE_CONTEXT.test(before(text, at, 24));
  return PHONE_CONTEXT.test(before(text, at, 40));
}
