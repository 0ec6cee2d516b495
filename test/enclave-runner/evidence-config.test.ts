import { describe, expect, it } from 'vitest';
import { evidenceSection } from '../../enclave-runner/config/services.js';
import { RunnerError } from '../../enclave-runner/errors.js';

const refused = (value: unknown): string => {
  try {
    evidenceSection(value, '/etc/zt4ai');
  } catch (e) {
    expect(e).toBeInstanceOf(RunnerError);
    expect((e as RunnerError).code).toBe('ERR_RUNNER_CONFIG');
    return (e as Error).message;
  }
  throw new Error(`accepted ${JSON.stringify(value)}`);
};

describe('evidence configuration: azure-vtpm', () => {
  it('takes the kind alone (tpm2-tools on /dev/tpmrm0, THIM at IMDS, AMD KDS) or with tcti, thimUrl, kdsUrl and tcgLog', () => {
    expect(evidenceSection('azure-vtpm', '/etc/zt4ai')).toEqual({ kind: 'azure-vtpm', tcti: null, thimUrl: null, kdsUrl: null, tcgLog: null });
    expect(evidenceSection({ kind: 'azure-vtpm' }, '/etc/zt4ai')).toEqual({ kind: 'azure-vtpm', tcti: null, thimUrl: null, kdsUrl: null, tcgLog: null });
    expect(evidenceSection({ kind: 'azure-vtpm', tcti: 'swtpm:host=127.0.0.1,port=2321', thimUrl: 'http://169.254.169.254/', kdsUrl: 'https://kds.example/', tcgLog: 'tcg.bin' }, '/etc/zt4ai')).toEqual({
      kind: 'azure-vtpm',
      tcti: 'swtpm:host=127.0.0.1,port=2321',
      thimUrl: 'http://169.254.169.254',
      kdsUrl: 'https://kds.example',
      tcgLog: '/etc/zt4ai/tcg.bin',
    });
    expect(() => evidenceSection({ kind: 'configfs-tsm', tcgLog: 'tcg.bin' }, '/x')).toThrow(/evidence.tcgLog applies to azure-vtpm/);
    expect(evidenceSection({ kind: 'azure-vtpm', tcti: 'device:/dev/tpmrm0', thimUrl: 'http://127.0.0.1:8080' }, '/x')).toMatchObject({ tcti: 'device:/dev/tpmrm0', thimUrl: 'http://127.0.0.1:8080' });
    expect(evidenceSection({ kind: 'azure-vtpm', tcti: 'tabrmd' }, '/x')).toMatchObject({ tcti: 'tabrmd' });
  });

  it('refuses a malformed TCTI, naming the setting', () => {
    expect(refused({ kind: 'azure-vtpm', tcti: '' })).toMatch(/^evidence\.tcti must be a non-empty string/);
    expect(refused({ kind: 'azure-vtpm', tcti: 'device /dev/tpm0' })).toMatch(/^evidence\.tcti must be a TCTI string/);
    expect(refused({ kind: 'azure-vtpm', tcti: 'device:/dev/tpmrm0\n' })).toMatch(/^evidence\.tcti must be a TCTI string/);
    expect(refused({ kind: 'azure-vtpm', tcti: 7 })).toMatch(/^evidence\.tcti/);
  });

  it('refuses THIM over plain http beyond IMDS and loopback, and URLs with credentials or a query', () => {
    expect(refused({ kind: 'azure-vtpm', thimUrl: 'http://imds.example' })).toMatch(/^evidence\.thimUrl: plain http only to the instance metadata service/);
    expect(refused({ kind: 'azure-vtpm', thimUrl: 'http://u:p@169.254.169.254' })).toMatch(/^evidence\.thimUrl must not carry credentials/);
    expect(refused({ kind: 'azure-vtpm', thimUrl: 'ftp://169.254.169.254' })).toMatch(/^evidence\.thimUrl must be an http\(s\) URL/);
    expect(refused({ kind: 'azure-vtpm', thimUrl: 'not a url' })).toMatch(/^evidence\.thimUrl "not a url" is not an absolute URL/);
    expect(refused({ kind: 'azure-vtpm', kdsUrl: 'http://kds.example' })).toMatch(/^evidence\.kdsUrl: plain http only to loopback/);
  });

  it('refuses azure-vtpm settings on other kinds, and unknown settings', () => {
    expect(refused({ kind: 'configfs-tsm', tcti: 'device:/dev/tpmrm0' })).toBe('evidence.tcti applies to azure-vtpm, not configfs-tsm');
    expect(refused({ kind: 'auto', thimUrl: 'http://169.254.169.254' })).toBe('evidence.thimUrl applies to azure-vtpm, not auto');
    expect(refused({ kind: 'azure-vtpm', path: '/dev/tpmrm0' })).toBe('evidence.path applies to configfs-tsm and simulated, not azure-vtpm');
    expect(refused({ kind: 'azure-vtpm', tctl: 'x' })).toMatch(/^evidence: unknown setting "tctl"/);
  });
});
