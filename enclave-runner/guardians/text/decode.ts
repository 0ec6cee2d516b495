/** How an encoded payload was found and decoded. */
export type Encoding = 'base64' | 'hex' | 'url' | 'rot13' | 'unicode-tags';

/** One decoded payload: re-checked by the rules and the classifier like the message itself. */
export interface DecodedPayload {
  readonly encoding: Encoding;
  /** 1 for a payload found in the input, 2 for one found inside a decoded payload, ... */
  readonly depth: number;
  readonly text: string;
}

/** Bounds on decoding, so a hostile input cannot make the guardian do unbounded work. */
export interface DecodeLimits {
  readonly maxDepth: number;
  readonly maxPayloads: number;
  /** Total characters of decoded text across all payloads. */
  readonly maxDecodedChars: number;
  /** Encoded runs longer than this are decoded from their first `maxRunChars` characters only. */
  readonly maxRunChars: number;
}

export const DEFAULT_DECODE_LIMITS: DecodeLimits = { maxDepth: 3, maxPayloads: 16, maxDecodedChars: 65_536, maxRunChars: 16_384 };

/** The payloads and whether a limit cut the search short (reported, and treated as suspicious). */
export interface DecodeResult {
  readonly payloads: DecodedPayload[];
  readonly truncated: boolean;
}

const BASE64_RUN = /[A-Za-z0-9+/_-]{16,}={0,2}/g;
const HEX_RUN = /\b(?:0x)?[0-9a-fA-F]{16,}\b/g;
const HEX_ESCAPED = /(?:\\x[0-9a-fA-F]{2}){6,}/g;
const HEX_SPACED = /\b[0-9a-fA-F]{2}(?: [0-9a-fA-F]{2}){7,}\b/g;
const PERCENT = /%[0-9a-fA-F]{2}/g;
// Frequent English words after rot13 ("the", "and", "you", "ignore", "previous", "instructions", ...).
const ROT13_WORDS = /\b(?:gur|naq|lbh|lbhe|vtaber|cerivbhf|vafgehpgvbaf|flfgrz|cebzcg|vf|gb|bs|sbe|jvgu|guvf|gung|nyy|abj|ner|jung|cnffjbeq)\b/g;
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Finds base64, hex, URL-encoded and rot13 payloads in `text` and decodes them, recursively up to
 * `limits.maxDepth`. Only payloads that decode to readable text are kept: random tokens and hashes
 * decode to binary and are dropped.
 */
export function decodePayloads(text: string, hiddenTagText = '', limits: DecodeLimits = DEFAULT_DECODE_LIMITS): DecodeResult {
  const state = { payloads: [] as DecodedPayload[], chars: 0, truncated: false };
  if (hiddenTagText.length > 0) add(state, limits, { encoding: 'unicode-tags', depth: 1, text: hiddenTagText.slice(0, limits.maxRunChars) });
  const queue: Array<{ text: string; depth: number }> = [{ text, depth: 1 }];
  while (queue.length > 0) {
    const item = queue.shift()!;
    if (item.depth > limits.maxDepth) {
      state.truncated = true;
      continue;
    }
    for (const p of decodeOnce(item.text, item.depth, limits)) {
      if (!add(state, limits, p)) break;
      queue.push({ text: p.text, depth: p.depth + 1 });
    }
  }
  return { payloads: state.payloads, truncated: state.truncated };
}

function add(state: { payloads: DecodedPayload[]; chars: number; truncated: boolean }, limits: DecodeLimits, p: DecodedPayload): boolean {
  if (state.payloads.length >= limits.maxPayloads || state.chars + p.text.length > limits.maxDecodedChars) {
    state.truncated = true;
    return false;
  }
  state.payloads.push(p);
  state.chars += p.text.length;
  return true;
}

function decodeOnce(text: string, depth: number, limits: DecodeLimits): DecodedPayload[] {
  const out: DecodedPayload[] = [];
  const seen = new Set<string>();
  const push = (encoding: Encoding, decoded: string | null) => {
    if (decoded === null || seen.has(decoded) || decoded === text) return;
    seen.add(decoded);
    out.push({ encoding, depth, text: decoded });
  };
  // Prose has no 16-character run of base64 characters: skip those scans (the common case) cheaply.
  if (hasLongRun(text)) {
    for (const m of text.matchAll(BASE64_RUN)) push('base64', fromBase64(m[0].slice(0, limits.maxRunChars)));
    for (const m of text.matchAll(HEX_RUN)) push('hex', fromHex(m[0].replace(/^0x/, '').slice(0, limits.maxRunChars)));
  }
  if (text.includes('\\x')) for (const m of text.matchAll(HEX_ESCAPED)) push('hex', fromHex(m[0].slice(0, limits.maxRunChars).replaceAll('\\x', '')));
  for (const m of text.matchAll(HEX_SPACED)) push('hex', fromHex(m[0].slice(0, limits.maxRunChars).replaceAll(' ', '')));
  if (text.includes('%')) for (const token of urlEncodedTokens(text, limits)) push('url', fromUrl(token));
  if (looksRot13(text)) push('rot13', rot13(text.slice(0, limits.maxRunChars)));
  return out;
}

function hasLongRun(text: string): boolean {
  let run = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const ok = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 43 || c === 47 || c === 95 || c === 45;
    run = ok ? run + 1 : 0;
    if (run >= 16) return true;
  }
  return false;
}

/** Readable means valid UTF-8, no control characters, and mostly letters and spaces. */
export function readable(s: string): boolean {
  if (s.length < 4) return false;
  let good = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 && c !== 9 && c !== 10 && c !== 13) return false;
    if (c === 0xfffd) return false;
    if (c === 0x20 || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c >= 0xc0) good++;
  }
  return good / s.length >= 0.7;
}

function fromBase64(run: string): string | null {
  const body = run.replace(/=+$/, '');
  if (body.length % 4 === 1) return null;
  try {
    const s = UTF8.decode(Buffer.from(body, body.includes('-') || body.includes('_') ? 'base64url' : 'base64'));
    return readable(s) ? s : null;
  } catch {
    return null;
  }
}

function fromHex(run: string): string | null {
  if (run.length % 2 === 1) return null;
  try {
    const s = UTF8.decode(Buffer.from(run, 'hex'));
    return readable(s) ? s : null;
  } catch {
    return null;
  }
}

function urlEncodedTokens(text: string, limits: DecodeLimits): string[] {
  const tokens: string[] = [];
  for (const token of text.split(/\s+/)) {
    if (tokens.length >= limits.maxPayloads) break;
    PERCENT.lastIndex = 0;
    let n = 0;
    while (n < 3 && PERCENT.exec(token) !== null) n++;
    if (n >= 3) tokens.push(token.slice(0, limits.maxRunChars));
  }
  return tokens;
}

function fromUrl(token: string): string | null {
  try {
    const s = decodeURIComponent(token.replaceAll('+', ' '));
    return readable(s) ? s : null;
  } catch {
    return null;
  }
}

function looksRot13(text: string): boolean {
  const hits = text.toLowerCase().match(ROT13_WORDS)?.length ?? 0;
  if (hits < 3) return false;
  const words = text.split(/\s+/).length;
  return hits / words >= 0.12;
}

/** rot13 of ASCII letters; everything else unchanged. */
export function rot13(s: string): string {
  return s.replace(/[a-zA-Z]/g, (c) => {
    const base = c <= 'Z' ? 65 : 97;
    return String.fromCharCode(((c.charCodeAt(0) - base + 13) % 26) + base);
  });
}
