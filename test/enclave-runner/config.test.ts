import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { configDigest, effectiveConfig } from '../../enclave-runner/config/digest.js';
import { loadRunnerConfigFile, resolveRunnerConfig } from '../../enclave-runner/config/load.js';
import { RunnerError } from '../../enclave-runner/errors.js';
import { REPO_ROOT } from '../helpers/shared.js';

const dir = mkdtempSync(join(tmpdir(), 'zt4ai-runner-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const pem = (): string => generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
const signer = pem();
writeFileSync(join(dir, 'signer.pub.pem'), signer);

const minimal = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  attestation: { url: 'http://127.0.0.1:8443' },
  keySource: { url: 'http://127.0.0.1:8443/keys/model-key', tokenFile: 'admin.token' },
  sealedModel: { path: 'sealed' },
  trustedSigners: [{ publicKeyFile: 'signer.pub.pem' }],
  ...extra,
});

async function refused(input: Record<string, unknown>): Promise<string> {
  const e = await resolveRunnerConfig(input, dir).then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(RunnerError);
  expect((e as RunnerError).code).toBe('ERR_RUNNER_CONFIG');
  return (e as RunnerError).message;
}

describe('runner configuration', () => {
  it('fills every default and resolves paths against the file', async () => {
    const c = await resolveRunnerConfig(minimal(), dir);
    expect(c.listen).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(c.evidence).toEqual({ kind: 'auto' });
    expect(c.teeKeyBits).toBe(3072);
    expect(c.keySource).toMatchObject({ kind: 'zt4ai-krs', vaultUrl: 'http://127.0.0.1:8443', keyName: 'model-key', keyVersion: null, credential: { tokenFile: join(dir, 'admin.token') }, releaseSigner: { fetch: true }, enc: 'RSA_AES_KEY_WRAP_256' });
    expect(c.sealedModel).toEqual({ path: join(dir, 'sealed'), unsealTo: 'memory', plaintextDir: null });
    expect(c.backend).toEqual({ kind: 'ngram', file: 'ngram.json' });
    expect(c.guardians.input).toMatchObject({ enabled: true, endSessionSeconds: 900, endSession: ['conversation', 'apiKey'] });
    expect(c.guardians.output).toMatchObject({ enabled: true, leakAction: 'block' });
    expect(c.limits).toEqual({ bodyLimitBytes: 1024 * 1024, maxTokens: 512, maxMessages: 64 });
  });

  it('accepts the draft the Bicep templates write (with a local sealed model directory)', async () => {
    const c = await resolveRunnerConfig(
      {
        schema: 'zt4ai-runner-config/draft-1',
        listen: '0.0.0.0:8080',
        evidence: 'azure-vtpm',
        attestation: { kind: 'azure-maa', url: 'https://zt4ai.weu.attest.azure.net' },
        keySource: { kind: 'azure-key-vault', url: 'https://kv.vault.azure.net/keys/model-key/0123456789abcdef0123456789abcdef', managedIdentityClientId: '00000000-0000-0000-0000-000000000001', releaseSigner: { pinnedSha256: ['ab'.repeat(32)] } },
        sealedModel: { path: 'sealed', plaintextDir: '/run/zt4ai-runner/model' },
        trustedSigners: [{ kind: 'public-key', publicKeyPem: signer }],
        guardians: { input: { enabled: true }, output: { enabled: false } },
      },
      dir,
    );
    expect(c.evidence).toEqual({ kind: 'azure-vtpm', tcti: null, thimUrl: null, kdsUrl: null, tcgLog: null });
    expect(c.keySource).toMatchObject({ vaultUrl: 'https://kv.vault.azure.net', keyVersion: '0123456789abcdef0123456789abcdef', credential: { azure: { managedIdentityClientId: '00000000-0000-0000-0000-000000000001' } } });
    expect(c.sealedModel).toEqual({ path: join(dir, 'sealed'), unsealTo: 'tmpfs', plaintextDir: '/run/zt4ai-runner/model' });
  });

  it.each([
    [{ surprise: 1 }, /unknown setting "surprise"/],
    [{ attestation: { url: 'http://10.0.0.4:8443' } }, /plain http only to loopback/],
    [{ evidence: 'simulated' }, /needs evidence.path/],
    [{ keySource: { url: 'http://127.0.0.1:8443/secrets/x' } }, /key identifier/],
    [{ keySource: { kind: 'azure-key-vault', url: 'https://kv.vault.azure.net/keys/k' } }, /releaseSigner is required for azure-key-vault/],
    [{ sealedModel: { kind: 'azure-blob', url: 'https://x.blob.core.windows.net/' } }, /names no valid container/],
    [{ trustedSigners: [] }, /at least one signer/],
    [{ trustedSigners: [{ publicKeyPem: generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }) }] }, /not an ECDSA P-256 or P-384 public key/],
    [{ trustedSigners: [{ publicKeyFile: 'missing.pem' }] }, /cannot be read: ENOENT/],
    [{ backend: { kind: 'openai-proxy', url: 'http://10.1.2.3:8081' } }, /plain http only to loopback|must be a loopback URL/],
    [{ backend: { kind: 'openai-proxy', url: 'http://127.0.0.1:8081' } }, /needs sealedModel.unsealTo "tmpfs"/],
    [{ backend: { kind: 'openai-upstream', url: 'http://127.0.0.1:8081', command: { argv: ['llama-server', '--port', '{port}'] } } }, /exactly one of url .* or command/],
    [{ backend: { kind: 'openai-upstream', command: { argv: ['llama-server', '-m', '{model}'] } }, sealedModel: { path: 'sealed', unsealTo: 'tmpfs' } }, /must contain \{port\}/],
    [{ backend: { kind: 'llama', threads: 0 } }, /backend.threads/],
    [{ backend: { kind: 'llama', gpu: 'rocm' } }, /backend.gpu/],
    [{ backend: { kind: 'llama', url: 'http://127.0.0.1:1' } }, /unknown setting "url"/],
    [{ guardians: { output: { disable: ['NAMES'] } } }, /"NAMES" is not one of/],
    [{ apiKeys: [{ id: 'alice', sha256: 'secret' }] }, /64 hex digits/],
    [{ teeKeyBits: 1024 }, /teeKeyBits must be 2048 or 3072/],
    [{ listen: 'localhost' }, /is not host:port/],
  ])('refuses %j with a message naming the setting', async (extra, message) => {
    expect(await refused(minimal(extra))).toMatch(message);
  });

  it('takes the llama backend with explicit threads, and an upstream the runner starts itself', async () => {
    const llama = await resolveRunnerConfig(minimal({ backend: { kind: 'llama', file: 'm.gguf', threads: 2 } }), dir);
    expect(llama.backend).toEqual({ kind: 'llama', file: 'm.gguf', threads: 2, gpu: 'auto', contextSize: null, parallel: 1, promptFormat: 'auto' });
    const started = await resolveRunnerConfig(minimal({ backend: { kind: 'openai-upstream', command: { argv: ['llama-server', '-m', '{model}', '--port', '{port}'] } }, sealedModel: { path: 'sealed', unsealTo: 'tmpfs' } }), dir);
    expect(started.backend).toEqual({ kind: 'openai-upstream', url: null, command: { argv: ['llama-server', '-m', '{model}', '--port', '{port}'], file: 'model.gguf', startTimeoutMs: 120_000 }, model: null, timeoutMs: 120_000 });
    // The older name of the pointed-at upstream still reads the same.
    const proxy = await resolveRunnerConfig(minimal({ backend: { kind: 'openai-proxy', url: 'http://127.0.0.1:8081' }, sealedModel: { path: 'sealed', unsealTo: 'tmpfs' } }), dir);
    expect(proxy.backend).toMatchObject({ kind: 'openai-upstream', url: 'http://127.0.0.1:8081', command: null });
  });

  it('reads a file: unreadable and non-JSON files are configuration errors', async () => {
    await expect(loadRunnerConfigFile(join(dir, 'none.json'))).rejects.toMatchObject({ code: 'ERR_RUNNER_CONFIG', message: expect.stringMatching(/ENOENT/) });
    writeFileSync(join(dir, 'bad.json'), '{');
    await expect(loadRunnerConfigFile(join(dir, 'bad.json'))).rejects.toMatchObject({ code: 'ERR_RUNNER_CONFIG', message: expect.stringMatching(/not valid JSON/) });
  });
});

describe('the configuration digest (x-zt4ai-config)', () => {
  it('covers signers, guardians, backend and the system prompt, not addresses or paths', async () => {
    const base = configDigest(await resolveRunnerConfig(minimal(), dir));
    expect(base).toMatch(/^[0-9a-f]{64}$/);
    const same = [{ listen: '127.0.0.1:9999' }, { sealedModel: { path: 'elsewhere' } }, { evidence: { kind: 'configfs-tsm' } }, { limits: { maxTokens: 64 } }];
    for (const extra of same) expect(configDigest(await resolveRunnerConfig(minimal(extra), dir)), JSON.stringify(extra)).toBe(base);
    // Threads and parallelism change speed, not answers: a policy pinning the digest survives a resize.
    const llama = configDigest(await resolveRunnerConfig(minimal({ backend: { kind: 'llama', threads: 1 } }), dir));
    expect(configDigest(await resolveRunnerConfig(minimal({ backend: { kind: 'llama', threads: 8, parallel: 4, gpu: 'cpu' } }), dir))).toBe(llama);
    const other = [
      { systemPrompt: 'You are someone else.' },
      { guardians: { input: { enabled: false } } },
      { guardians: { output: { leakAction: 'redact' } } },
      { trustedSigners: [{ publicKeyPem: pem() }] },
      { backend: { kind: 'ngram', file: 'other.json' } },
      { backend: { kind: 'llama', file: 'other.gguf' } },
    ];
    for (const extra of other) expect(configDigest(await resolveRunnerConfig(minimal(extra), dir)), JSON.stringify(extra)).not.toBe(base);
    // A started upstream serves the file its command names: another file is another model, as for llama.
    const upstream = (file: string) => minimal({ sealedModel: { path: 'sealed', unsealTo: 'tmpfs' }, backend: { kind: 'openai-upstream', command: { argv: ['llama-server', '-m', '{model}', '--port', '{port}'], file } } });
    expect(configDigest(await resolveRunnerConfig(upstream('other.gguf'), dir))).not.toBe(configDigest(await resolveRunnerConfig(upstream('model.gguf'), dir)));
  });

  it('names signers by the SHA-256 of their key, whatever the PEM formatting, and hashes the prompt', async () => {
    const e = effectiveConfig(await resolveRunnerConfig(minimal({ trustedSigners: [{ publicKeyPem: `\n\n${signer}` }] }), dir));
    expect(e.trustedSigners).toEqual([expect.stringMatching(/^[0-9a-f]{64}$/)]);
    expect(e.systemPromptSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(configDigest(await resolveRunnerConfig(minimal({ trustedSigners: [{ publicKeyPem: `\n\n${signer}` }] }), dir))).toBe(configDigest(await resolveRunnerConfig(minimal(), dir)));
  });
});

describe('the example configuration', () => {
  it('enclave-runner/runner.example.json is valid (its files aside)', async () => {
    const example = JSON.parse(readFileSync(join(REPO_ROOT, 'enclave-runner/runner.example.json'), 'utf8')) as Record<string, unknown>;
    const c = await resolveRunnerConfig({ ...example, trustedSigners: [{ kind: 'public-key', publicKeyPem: signer }] }, dir);
    expect(c.keySource.releaseSigner).toEqual({ caFile: '/etc/zt4ai/krs-release-ca.pem' });
    expect(c.apiKeys).toEqual([{ id: 'team-a', sha256: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08' }]);
  });
});
