import { describe, expect, it } from 'vitest';
import { ibanValid, luhnValid, shannonEntropy } from '../../../enclave-runner/guardians/output/checksums.js';
import { redact } from '../../../enclave-runner/guardians/output/detect.js';

const types = (t: string) => redact(t).spans.map((s) => s.type);

describe('checksums', () => {
  it('Luhn accepts valid card numbers and rejects one-digit changes', () => {
    expect(luhnValid('4111111111111111')).toBe(true);
    expect(luhnValid('4111111111111112')).toBe(false);
    expect(luhnValid('378282246310005')).toBe(true);
  });
  it('IBAN mod-97 accepts valid IBANs (any case, spaced) and rejects a changed digit or wrong length', () => {
    expect(ibanValid('GB82WEST12345698765432')).toBe(true);
    expect(ibanValid('gb82 west 1234 5698 7654 32')).toBe(true);
    expect(ibanValid('DE89370400440532013000')).toBe(true);
    expect(ibanValid('GB82WEST12345698765433')).toBe(false);
    expect(ibanValid('GB82WEST1234569876543')).toBe(false);
  });
  it('Shannon entropy separates random tokens from words', () => {
    expect(shannonEntropy('aaaaaaaa')).toBe(0);
    expect(shannonEntropy('Zx9Qw3Er7Ty1Ui5Op2As8Df4Gh6Jk0L')).toBeGreaterThan(4);
    expect(shannonEntropy('internationalisation')).toBeLessThan(4);
  });
});

describe('redaction validation keeps false positives out', () => {
  it('needs Luhn for cards and the checksum for IBANs', () => {
    expect(types('order 4111 1111 1111 1112 shipped')).not.toContain('CREDIT_CARD');
    expect(types('ref GB82WEST12345698765433')).not.toContain('IBAN_CODE');
  });
  it('needs context for bare nine-digit SSNs and for ambiguous phone numbers', () => {
    expect(types('invoice 123456789 paid')).toEqual([]);
    expect(types('my ssn: 123456789')).toContain('US_SSN');
    expect(types('we sold 4567 units in 2023')).toEqual([]);
    expect(types('phone: 4567 8910')).toContain('PHONE_NUMBER');
  });
  it('rejects impossible IPs, years, dates and versions', () => {
    expect(types('version 999.1.2.3 and 2019 2020 2021, on 2024-01-02')).toEqual([]);
  });
  it('leaves hex hashes and ordinary long words alone', () => {
    expect(types('commit 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b and counterrevolutionaries')).toEqual([]);
  });
  it('finds names through honorifics, context and the gazetteer, places through the gazetteer', () => {
    expect(types('Please ask Mrs. Okonkwo about it.')).toContain('PERSON');
    expect(types('My name is Zbigniew Brzezinski.')).toContain('PERSON');
    expect(types('I moved to Portugal last year.')).toContain('LOCATION');
  });
});
