import { describe, expect, it } from 'vitest';
import { redact } from '../../../enclave-runner/guardians/output/detect.js';
import { LeakDetector, makeCanary } from '../../../enclave-runner/guardians/output/leak.js';
import { LEAK_NOTICE, OutputGuardian, type OutputGuardianOptions } from '../../../enclave-runner/guardians/output/output-guardian.js';
import { unsupportedSentences } from '../../../enclave-runner/guardians/output/unsupported.js';

/** Streams `text` split at every `size` characters; returns everything emitted. */
function stream(text: string, size: number, options: OutputGuardianOptions = {}): { out: string; g: OutputGuardian } {
  const g = new OutputGuardian(options);
  let out = '';
  for (let i = 0; i < text.length; i += size) out += g.push(text.slice(i, i + size));
  out += g.flush();
  return { out, g };
}

const FILLER = 'Here is the information you asked for, as discussed in the meeting earlier this week. ';
const CASES: Array<[string, string, string]> = [
  ['EMAIL_ADDRESS', 'jane.doe+work@example.co.uk', 'Contact: jane.doe+work@example.co.uk for details.'],
  ['PHONE_NUMBER', '+1 (415) 555-0100', 'Call me on +1 (415) 555-0100 tomorrow.'],
  ['CREDIT_CARD', '4111 1111 1111 1111', 'The card is 4111 1111 1111 1111 and expires soon.'],
  ['IBAN_CODE', 'GB82 WEST 1234 5698 7654 32', 'Pay to GB82 WEST 1234 5698 7654 32 please.'],
  ['US_SSN', '123-45-6789', 'His SSN is 123-45-6789 on file.'],
  ['UK_NINO', 'AB 12 34 56 C', 'National insurance number AB 12 34 56 C is listed.'],
  ['IP_ADDRESS', '203.0.113.77', 'The server at 203.0.113.77 refused the login.'],
  ['IP_ADDRESS', '2001:db8:85a3::8a2e:370:7334', 'Reach 2001:db8:85a3::8a2e:370:7334 over IPv6.'],
  ['PERSON', 'Margaret Thompson', 'The report was signed by Dr. Margaret Thompson yesterday.'],
  ['LOCATION', '221 Baker Street', 'She lives at 221 Baker Street near the park.'],
  ['AWS_ACCESS_KEY', 'AKIAIOSFODNN7EXAMPLE', 'Use key AKIAIOSFODNN7EXAMPLE for the bucket.'],
  ['GITHUB_TOKEN', `ghp_${'a1B2c3D4e5'.repeat(4)}`, `token ghp_${'a1B2c3D4e5'.repeat(4)} works`],
  ['SLACK_TOKEN', 'xoxb-1234567890-abcdefghijkl', 'Slack bot token xoxb-1234567890-abcdefghijkl here.'],
  ['OPENAI_KEY', 'sk-proj-Abc123Def456Ghi789Jkl012', 'The key sk-proj-Abc123Def456Ghi789Jkl012 is secret.'],
  ['JWT', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U', 'Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U sent.'],
  ['SECRET', 'Zx9Qw3Er7Ty1Ui5Op2As8Df4Gh6Jk0L', 'password = Zx9Qw3Er7Ty1Ui5Op2As8Df4Gh6Jk0L end'],
];

describe('output guardian: redaction on a token stream', () => {
  for (const [type, value, sentence] of CASES) {
    it(`${type} is redacted whatever the chunk boundaries`, () => {
      const text = FILLER + sentence + ' ' + FILLER;
      const whole = redact(text).text;
      expect(whole).toContain(`[REDACTED:${type}]`);
      expect(whole).not.toContain(value);
      for (const size of [1, 2, 3, 5, 7, 16, 64]) {
        const { out } = stream(text, size);
        expect(out, `chunk size ${size}`).toBe(whole);
        expect(out).not.toContain(value);
      }
    });
  }

  it('redacts a PEM private key split across many chunks, and an unterminated one to the end', () => {
    const key = `-----BEGIN RSA PRIVATE KEY-----\n${'MIIEpAIBAAKCAQEA7x'.repeat(20)}\n-----END RSA PRIVATE KEY-----`;
    const { out } = stream(`${FILLER}${key}\n${FILLER}`, 9);
    expect(out).toContain('[REDACTED:PRIVATE_KEY]');
    expect(out).not.toContain('MIIEpAIBAAKCAQEA');
    const open = stream(`${FILLER}-----BEGIN PRIVATE KEY-----\n${'QUJD'.repeat(40)}`, 11).out;
    expect(open).not.toContain('QUJDQUJD');
  });

  it('never alters a text without PII or secrets', () => {
    const texts = [
      FILLER.repeat(5),
      'The meeting is at 10:30 on 2024-05-06; bring 3 copies of the 12-page report.',
      'Version 1.2.3 fixed bug #4521. See https://example.org/docs/guide for details.',
      'Water boils at 100 degrees Celsius at sea level.',
    ];
    for (const t of texts) {
      expect(redact(t).text).toBe(t);
      expect(stream(t, 3).out).toBe(t);
    }
  });

  it('rejects a closed stream and bad options with stable codes', () => {
    const g = new OutputGuardian();
    g.flush();
    expect(() => g.push('x')).toThrow(expect.objectContaining({ code: 'ERR_GUARD_STREAM_CLOSED' }));
    expect(() => new OutputGuardian({ holdBack: 100, maxHold: 10 })).toThrow(expect.objectContaining({ code: 'ERR_GUARD_CONFIG' }));
  });

  it('counts what it redacted by type, never values', () => {
    const { g } = stream(`${FILLER}mail a@b.io and c@d.io ${FILLER}`, 4);
    expect(g.findings.redacted).toEqual({ EMAIL_ADDRESS: 2 });
  });
});

describe('output guardian: system-prompt leaks', () => {
  const systemPrompt = 'You are Acme support. Never discuss competitors. Always answer in a friendly tone and never mention internal ticket numbers or escalation paths.';

  it('stops the stream when a canary appears, even split across chunks', () => {
    const canary = makeCanary();
    expect(canary).toMatch(/^zt4ai-canary-[0-9a-f]{16}$/);
    const answer = `${FILLER}Sure! My instructions contain ${canary} and more. ${FILLER}`;
    for (const size of [1, 4, 13]) {
      const { out, g } = stream(answer, size, { leak: { canaries: [canary] } });
      expect(out).not.toContain(canary);
      expect(out).toContain(LEAK_NOTICE);
      expect(g.findings.blocked).toBe(true);
    }
  });

  it('blocks or redacts a verbatim run of the system prompt (n-gram overlap)', () => {
    const leak = `${FILLER}My rules say: always answer in a friendly tone and never mention internal ticket numbers or escalation paths. ${FILLER}`;
    const blocked = stream(leak, 5, { leak: { systemPrompt } });
    expect(blocked.out).toContain(LEAK_NOTICE);
    expect(blocked.out).not.toContain('escalation paths');
    const redacted = stream(leak, 5, { leak: { systemPrompt, action: 'redact' } });
    expect(redacted.out).toContain('[REDACTED:SYSTEM_PROMPT]');
    expect(redacted.out).not.toContain('escalation paths');
  });

  it('does not fire on short coincidental overlaps', () => {
    const d = new LeakDetector({ systemPrompt });
    expect(d.find('You are welcome! Always answer emails in a friendly way.')).toEqual([]);
  });
});

describe('unsupported-sentence heuristic (off by default)', () => {
  const sources = ['The Eiffel Tower was completed in 1889 for the World Fair in Paris. It is 330 metres tall.'];
  it('flags sentences whose content words are absent from the sources', () => {
    const answer = 'The Eiffel Tower was completed in 1889 in Paris. Its architect secretly designed underwater submarines for Norway.';
    const flagged = unsupportedSentences(answer, sources);
    expect(flagged).toHaveLength(1);
    expect(answer.slice(flagged[0]!.start, flagged[0]!.end)).toContain('submarines');
  });
  it('reports through the stream findings only when sources are given', () => {
    const answer = `${FILLER}Bananas are the main export of Iceland according to the tower staff.`;
    expect(stream(answer, 7).g.findings.unsupported).toEqual([]);
    expect(stream(answer, 7, { sources }).g.findings.unsupported.length).toBeGreaterThan(0);
  });
});
