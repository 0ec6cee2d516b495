/**
 * The common Cyrillic, Greek and Latin-extension look-alikes of ASCII letters (a subset of Unicode's
 * confusables.txt: the letters attackers actually use to split a keyword past a filter). Fullwidth and
 * mathematical letters are not listed: NFKC already folds them.
 */
const PAIRS: ReadonlyArray<readonly [string, string]> = [
  // Cyrillic lower case
  ['а', 'a'], ['в', 'b'], ['е', 'e'], ['ё', 'e'], ['ԁ', 'd'], ['ɡ', 'g'], ['һ', 'h'], ['і', 'i'], ['ї', 'i'],
  ['ј', 'j'], ['к', 'k'], ['ӏ', 'l'], ['м', 'm'], ['н', 'h'], ['о', 'o'], ['р', 'p'], ['ԛ', 'q'], ['ѕ', 's'],
  ['т', 't'], ['у', 'y'], ['ү', 'y'], ['ԝ', 'w'], ['х', 'x'], ['с', 'c'], ['ь', 'b'], ['п', 'n'],
  // Cyrillic upper case
  ['А', 'A'], ['В', 'B'], ['Е', 'E'], ['Ё', 'E'], ['К', 'K'], ['М', 'M'], ['Н', 'H'], ['О', 'O'], ['Р', 'P'],
  ['С', 'C'], ['Т', 'T'], ['Х', 'X'], ['У', 'Y'], ['Ү', 'Y'], ['І', 'I'], ['Ј', 'J'], ['Ѕ', 'S'], ['Ԁ', 'D'],
  ['Ԛ', 'Q'], ['Ԝ', 'W'], ['Һ', 'H'], ['Ӏ', 'I'],
  // Greek
  ['α', 'a'], ['β', 'b'], ['ε', 'e'], ['η', 'n'], ['ι', 'i'], ['κ', 'k'], ['ν', 'v'], ['ο', 'o'], ['ρ', 'p'],
  ['τ', 't'], ['υ', 'u'], ['χ', 'x'], ['γ', 'y'], ['ϲ', 'c'], ['ϳ', 'j'], ['Α', 'A'], ['Β', 'B'], ['Ε', 'E'],
  ['Ζ', 'Z'], ['Η', 'H'], ['Ι', 'I'], ['Κ', 'K'], ['Μ', 'M'], ['Ν', 'N'], ['Ο', 'O'], ['Ρ', 'P'], ['Τ', 'T'],
  ['Υ', 'Y'], ['Χ', 'X'], ['Ϲ', 'C'],
  // Latin extensions and small capitals that NFKC leaves alone
  ['ı', 'i'], ['ȷ', 'j'], ['ɑ', 'a'], ['ɩ', 'i'], ['ɪ', 'i'], ['ᴀ', 'a'], ['ʙ', 'b'], ['ᴄ', 'c'], ['ᴅ', 'd'],
  ['ᴇ', 'e'], ['ɢ', 'g'], ['ʜ', 'h'], ['ᴊ', 'j'], ['ᴋ', 'k'], ['ʟ', 'l'], ['ᴍ', 'm'], ['ɴ', 'n'], ['ᴏ', 'o'],
  ['ᴘ', 'p'], ['ʀ', 'r'], ['ꜱ', 's'], ['ᴛ', 't'], ['ᴜ', 'u'], ['ᴠ', 'v'], ['ᴡ', 'w'], ['ʏ', 'y'], ['ᴢ', 'z'],
];

/** Look-alike code point -> ASCII letter. */
export const CONFUSABLES: ReadonlyMap<number, string> = new Map(PAIRS.map(([from, to]) => [from.codePointAt(0)!, to]));
