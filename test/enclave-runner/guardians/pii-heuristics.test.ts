import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { findAddressSpans } from '../../../enclave-runner/guardians/output/addresses.js';
import { redact } from '../../../enclave-runner/guardians/output/detect.js';
import { fold, hasNameShape, isCommonWord, isKnownName } from '../../../enclave-runner/guardians/output/lexicon.js';
import { OutputGuardian } from '../../../enclave-runner/guardians/output/output-guardian.js';

// Sentences written for these tests (not taken from the evaluation data).

/** The redacted values of one type. */
function values(text: string, type: string): string[] {
  return redact(text)
    .spans.filter((s) => s.type === type)
    .map((s) => text.slice(s.start, s.end));
}

function stream(text: string, size: number): string {
  const g = new OutputGuardian();
  let out = '';
  for (let i = 0; i < text.length; i += size) out += g.push(text.slice(i, i + size));
  return out + g.flush();
}

describe('lexicon', () => {
  it('folds case and diacritics, including letters without a decomposition', () => {
    expect(fold('Jørgensen')).toBe('jorgensen');
    expect(fold('Þórunn')).toBe('thorunn');
    expect(fold('Łódź')).toBe('lodz');
    expect(fold('Straße')).toBe('strasse');
  });
  it('knows common English words, with regular inflections', () => {
    for (const w of ['house', 'pleasures', 'guilty', 'secretly', 'rights', 'investments', 'labor']) expect(isCommonWord(w), w).toBe(true);
    for (const w of ['kowalczyk', 'okonkwo', 'zbigniew']) expect(isCommonWord(w), w).toBe(false);
  });
  it('knows personal names of many languages and rejects random strings', () => {
    for (const w of ['siobhan', 'oluwaseun', 'priyanka', 'kwabena', 'mateus', 'dmitri', 'jorgensen']) expect(isKnownName(w), w).toBe(true);
    let hits = 0;
    for (let i = 0; i < 2000; i++) if (isKnownName(`qx${i}zv`)) hits++;
    expect(hits).toBeLessThan(60);
  });
  it('recognises surname shapes', () => {
    for (const w of ['petrovic', 'ivanova', 'wisniewski', 'karlsson', 'papadopoulos', 'korhonen', 'beridze']) expect(hasNameShape(w), w).toBe(true);
    expect(hasNameShape('window')).toBe(false);
  });
});

describe('names: context and lexicon', () => {
  it('finds persons through cues, lists and the name lexicon', () => {
    expect(values('The contract was reviewed by Ngozi Okonkwo last week.', 'PERSON')).toEqual(['Ngozi Okonkwo']);
    expect(values('Please forward the invoice to Tanaka Hiroshi before Friday.', 'PERSON')).toEqual(['Tanaka Hiroshi']);
    expect(values('Our new intern, Oluwaseun Adeyemi, starts on Monday.', 'PERSON')).toEqual(['Oluwaseun Adeyemi']);
    expect(values('Siobhan said the results look promising.', 'PERSON')).toEqual(['Siobhan']);
    expect(values('The keynote speaker is Dr. Björn Þórsson.', 'PERSON')).toEqual(['Björn Þórsson']);
    expect(values('Thanks, Derrick!', 'PERSON')).toEqual(['Derrick']);
    expect(values('The founders were Kowalczyk, Brennan and Oyelaran.', 'PERSON').length).toBe(3);
  });
  it('finds a lower-case name only after a strong cue', () => {
    expect(values('hi, my name is siobhan', 'PERSON')).toEqual(['siobhan']);
    expect(values('yesterday i met my friend oluwaseun adeyemi', 'PERSON')).toEqual(['oluwaseun adeyemi']);
    expect(values('the house is near the river', 'PERSON')).toEqual([]);
  });
  it('places: gazetteer, cues, country inside a longer run, City, Country', () => {
    expect(values('She grew up in Ouagadougou before moving abroad.', 'LOCATION')).toEqual(['Ouagadougou']);
    expect(values('The orchestra tours Southern Czech Republic in May.', 'LOCATION')).toEqual(['Czech Republic']);
    expect(values('We met in Tallinn, Estonia.', 'LOCATION')).toEqual(['Tallinn', 'Estonia']);
    expect(values('I moved to Portugal last year.', 'LOCATION')).toEqual(['Portugal']);
  });
  it('leaves common-word titles, brands, nationalities and speaker labels alone', () => {
    const clean = [
      'Title VII of the Civil Rights Act protects workers.',
      'For my take, see Guilty Pleasures: Songs You Secretly Love.',
      'On the last Sunday before Labor Day we drove home.',
      'Docker Compose starts the Redis and Postgres containers.',
      'We use React, Vue and Angular at work.',
      'It is a 2010 Czech comedy with a Norwegian cast.',
      'Bot: How can I help?\nUser: What are the opening hours?',
      'Cool, what is the plan? The Princess Royal arrived this morning.',
      'The Python script reads the CSV file and writes a JSON report.',
    ];
    for (const t of clean) expect(redact(t).text, t).toBe(t);
  });
  it('does not take an organisation for a person', () => {
    expect(values('I work for Russell Investments now.', 'PERSON')).toEqual([]);
    expect(values('Anna Nowak is from Civic Impulse LLC.', 'PERSON')).toEqual(['Anna Nowak']);
  });
});

describe('addresses', () => {
  const cases: Array<[string, string]> = [
    ['Write to 1600 Pennsylvania Avenue NW, Washington, DC 20500 for tickets.', '1600 Pennsylvania Avenue NW, Washington, DC 20500'],
    ['He lives at 221B Baker Street, London NW1 6XE.', '221B Baker Street, London NW1 6XE'],
    ['Ship it to Apt 4B, 55 West 23rd Street, New York, NY 10010.', 'Apt 4B, 55 West 23rd Street, New York, NY 10010'],
    ['Unsere Adresse: Hauptstraße 5, 10115 Berlin', 'Hauptstraße 5, 10115 Berlin'],
    ['Please ship it to ul. Marszałkowska 10/12, 00-590 Warszawa.', 'ul. Marszałkowska 10/12, 00-590 Warszawa'],
    ['She lives on Via Garibaldi 17 near the station.', 'Via Garibaldi 17'],
    ['Send it to P.O. Box 123, Anytown, CA 90210.', 'P.O. Box 123, Anytown, CA 90210'],
    ['Meet me at the corner of Elm Street and 5th Avenue.', 'the corner of Elm Street and 5th Avenue'],
    ['Mail: 7 Rue des Lilas\n  Apt. 3\n  Lyon\n\n  France 69003\nThanks!', '7 Rue des Lilas\n  Apt. 3\n  Lyon\n\n  France 69003'],
    ['- 12 Kiannonkatu 8\n- Suite 4\n- Oulu\n- Finland 90100', '12 Kiannonkatu 8\n- Suite 4\n- Oulu\n- Finland 90100'],
    ['Return it to USNS Kowalski\nFPO AE 12345 if undelivered.', 'USNS Kowalski\nFPO AE 12345'],
    ['Return it to PSC 1234, Box 5678\nAPO AP 98765 in case of an issue.', 'PSC 1234, Box 5678\nAPO AP 98765'],
    ['drop it at 4821 kirkjuvegur 12, reykjavik, iceland', '4821 kirkjuvegur 12, reykjavik, iceland'],
  ];
  for (const [text, value] of cases) {
    it(`finds ${JSON.stringify(value)}`, () => {
      expect(values(text, 'LOCATION')).toContain(value);
      expect(stream(text, 3)).toBe(redact(text).text);
    });
  }
  it('does not take titles, counts, dates or companies for addresses', () => {
    for (const t of ['See 5 Musicians Of The 70s You Love', 'We have 3 cats and 2 dogs.', 'Since March 2024 we ship faster.', 'I work for 48 Factoring Inc', 'Windows 11 needs TPM 2.0.']) {
      expect(findAddressSpans(t), t).toEqual([]);
    }
  });
});

describe('phone numbers', () => {
  it('accepts international formats, trunk prefixes and extensions', () => {
    const phones = ['+33 1 23 45 67 89', '+44 (0)20 7946 0958', '8 (495) 123-45-67', '+1-202-555-0173 ext. 12', '030/1234567', '(02) 9876 5432', '001-555-555-5555x123', '+81 3-1234-5678'];
    for (const p of phones) expect(values(`You can reach the office on ${p} today.`, 'PHONE_NUMBER'), p).toEqual([p]);
  });
  it('takes one unseparated run of digits only right after a phone word', () => {
    expect(values('Fax: 9498777106', 'PHONE_NUMBER')).toEqual(['9498777106']);
    expect(values('order number 9498777106 shipped', 'PHONE_NUMBER')).toEqual([]);
    expect(values('on 12/05/2024 we met', 'PHONE_NUMBER')).toEqual([]);
  });
});

describe('bounded work on hostile input', () => {
  const SIZE = 100_000;
  const rep = (s: string) => s.repeat(Math.ceil(SIZE / s.length)).slice(0, SIZE);
  for (const [name, text] of [
    ['all-caps labels', rep('USNS ')],
    ['name lists', rep('John Smith, Xyzzy and ')],
    ['country runs', rep('Southern Czech Republic ')],
    ['address lines', rep('12 Main St\nSpringfield, IL 62704\n')],
    ['intersections', rep('the corner of Abc 1 and Def ')],
    ['bullets', rep('\n??? Abc 12')],
  ] as const) {
    it(`stays bounded on ${name}`, () => {
      const s = performance.now();
      redact(text);
      expect(performance.now() - s).toBeLessThan(2000);
    });
  }
});
