import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeDemoModel } from '../../enclave-runner/backends/ngram/demo-model.js';
import { configDigest } from '../../enclave-runner/config/digest.js';
import type { RunnerError } from '../../enclave-runner/errors.js';
import { type RunningRunner, launchRunner } from '../../enclave-runner/runner.js';
import { rsaOaepWrapper } from '../../keys/sealing/data-keys.js';
import { sealModel } from '../../keys/sealing/seal-model.js';
import { TCG_EV } from '../../attestation/azure/index.js';
import { SWTPM_INSTALL_HINT, type SimulatedImds, missingSwtpmTools, simulatedVtpmCa, startSimulatedImds, thimFor } from '../../simulator/azure/index.js';
import { defaultBootEvents, writeTcgLog } from '../../simulator/azure/tcg-log-writer.js';
import { SimulatedFirmware, simulatedRootsPem } from '../../simulator/index.js';
import { cli } from '../helpers/cli.js';
import { type AzureStack, startAzureStack } from '../enclave-runner/azure/stack.js';
import { failedStart } from '../enclave-runner/runner-failure.js';
import { roots } from '../enclave-runner/stack.js';

/**
 * The runner on a (simulated) Azure confidential VM attesting the way it does to Microsoft Azure Attestation:
 * MAA's AzureGuest flow (attestation.kind "azure-maa") with the KRS playing MAA, and Key Vault's Secure Key
 * Release (keySource "azure-key-vault", @azure/keyvault-keys) with the KRS playing Key Vault and the VM's
 * managed identity from the simulated IMDS (@azure/identity). The evidence is the real tpm2-tools path on
 * swtpm: the ephemeral key is made and certified in the TPM, the token comes back encrypted to it, and the
 * released key is wrapped to it and unwrapped inside the TPM. Then evidence altered on its way is refused.
 */
const missing = missingSwtpmTools();
const skipped = missing.length > 0 ? ` (SKIPPED: ${missing.join(', ')} not on PATH; ${SWTPM_INSTALL_HINT})` : '';
const RUNNER_ID = '3c5e7a9b-1d2f-4a6b-8c0d-2e4f6a8b0c1d';

let imds: SimulatedImds;
let azure: AzureStack;
let guestKeyId: string;
let policyFile: string;
const saved = process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST;

/** The runner's configuration on the AzureGuest path: MAA (the KRS), Key Vault (the KRS), the managed identity. */
function guestConfig(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    evidence: { kind: 'azure-vtpm', tcti: azure.vtpm.tcti, thimUrl: imds.url, tcgLog: azure.vtpm.tcgLogPath },
    attestation: { kind: 'azure-maa', url: azure.krs.url },
    keySource: { kind: 'azure-key-vault', url: `${azure.krs.url}/keys/guest-key`, managedIdentityClientId: RUNNER_ID, releaseSigner: { caFile: 'release-ca.pem' } },
    sealedModel: { path: join(azure.dir, 'sealed-guest') },
    ...overrides,
  };
}

beforeAll(async () => {
  if (missing.length > 0) return;
  const firmware = new SimulatedFirmware({ root: (await roots()).Genoa });
  imds = await startSimulatedImds({ identities: [{ clientId: RUNNER_ID, roles: ['keys.release'] }], thim: thimFor(firmware.getExtendedReport(Buffer.alloc(64))) });
  process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST = imds.url;
  azure = await startAzureStack({ firmware, thimUrl: imds.url, adminJwtIssuer: imds.issuer });
  writeFileSync(join(azure.dir, 'release-ca.pem'), await (await fetch(`${azure.krs.url}/release-signer/ca`)).text());
  // A confidential-VM release policy as written for MAA, plus the runner configuration through ClientPayload.
  const digest = configDigest(await azure.config(guestConfig()));
  const clauses = [
    { claim: 'x-ms-attestation-type', equals: 'azurevm' },
    { claim: 'x-ms-isolation-tee.x-ms-attestation-type', equals: 'sevsnpvm' },
    { claim: 'x-ms-isolation-tee.x-ms-compliance-status', equals: 'azure-compliant-cvm' },
    { claim: 'x-ms-isolation-tee.x-ms-sevsnpvm-is-debuggable', equals: false },
    { claim: 'secureboot', equals: true },
    { claim: 'x-zt4ai-simulated', equals: true },
    { claim: 'x-ms-runtime.client-payload.zt4ai-config', equals: Buffer.from(digest, 'utf8').toString('base64') },
  ];
  const policy = { version: '1.0.0', anyOf: [{ authority: azure.krs.issuer, allOf: clauses }] };
  policyFile = join(azure.dir, 'guest-policy.json');
  writeFileSync(policyFile, JSON.stringify(policy));
  const key = await azure.keys.createKey('guest-key', 'RSA-HSM', { keySize: 2048, exportable: true, releasePolicy: { encodedPolicy: new TextEncoder().encode(JSON.stringify(policy)) } });
  guestKeyId = key.id!;
  const model = join(azure.dir, 'model-guest');
  await makeDemoModel(model);
  const jwk = { kty: 'RSA', n: Buffer.from(key.key!.n!).toString('base64url'), e: Buffer.from(key.key!.e!).toString('base64url') };
  await sealModel(model, { outDir: join(azure.dir, 'sealed-guest'), key: { wrapper: rsaOaepWrapper(jwk, key.id!) }, sign: { privateKey: azure.signer }, threads: 0 });
});
afterAll(async () => {
  await azure?.close();
  await imds?.close();
  if (saved === undefined) delete process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST;
  else process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST = saved;
});

async function failing(overrides: Record<string, unknown>): Promise<{ err: RunnerError; runner: RunningRunner }> {
  return failedStart(await azure.config(guestConfig(overrides)));
}

type Info = Record<string, unknown> & { TpmInfo: Record<string, unknown>; TcgLogs: string };

/** A loopback proxy in front of the KRS that rewrites AzureGuest's AttestationInfo, or its answer. */
async function guestProxy(o: { info?: (info: Info) => Info; answer?: (envelope: Record<string, string>) => Record<string, string> }): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const guest = req.method === 'POST' && req.url?.startsWith('/attest/AzureGuest');
      let body: Buffer | undefined = chunks.length > 0 ? Buffer.concat(chunks) : undefined;
      if (guest && body && o.info) {
        const info = JSON.parse(Buffer.from((JSON.parse(body.toString('utf8')) as { AttestationInfo: string }).AttestationInfo, 'base64url').toString('utf8')) as Info;
        body = Buffer.from(JSON.stringify({ AttestationInfo: Buffer.from(JSON.stringify(o.info(info))).toString('base64url') }));
      }
      const upstream = await fetch(`${azure.krs.url}${req.url}`, { method: req.method!, ...(body ? { body, headers: { 'content-type': 'application/json' } } : {}) });
      let answer = Buffer.from(await upstream.arrayBuffer());
      if (guest && upstream.status === 200 && o.answer) {
        const envelope = JSON.parse(Buffer.from((JSON.parse(answer.toString('utf8')) as { token: string }).token, 'base64url').toString('utf8')) as Record<string, string>;
        answer = Buffer.from(JSON.stringify({ token: Buffer.from(JSON.stringify(o.answer(envelope))).toString('base64url') }));
      }
      res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' });
      res.end(answer);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((r) => server.close(() => r())) };
}

const flip = (b64: string, at: (length: number) => number): string => {
  const bytes = Buffer.from(b64, 'base64');
  bytes[at(bytes.length)]! ^= 0x01;
  return bytes.toString('base64');
};

describe.skipIf(missing.length > 0)(`the runner attesting to MAA's AzureGuest flow (swtpm, tpm2-tools)${skipped}`, () => {
  it('attests with a certified vTPM key, opens the encrypted token, gets the key wrapped to the vTPM, unwraps it in the TPM and serves', async () => {
    const runner = await launchRunner(await azure.config(guestConfig()));
    try {
      await runner.ready;
      const status = runner.status();
      expect(status.state).toBe('serving');
      const step = (name: string) => status.steps.find((s) => s.name === name)!;
      expect(step('evidence').detail).toMatchObject({ source: 'azure-vtpm', flow: 'azure-guest', fresh: false, teeKid: 'TpmEphemeralEncryptionKey' });
      expect(step('release').detail).toMatchObject({ kid: guestKeyId, kty: 'RSA', enc: 'RSA_AES_KEY_WRAP_256' });
      const attestation = (await (await fetch(`${runner.url}/attestation`)).json()) as { kind: string; token: string; runtimeData: string; attestationInfo: string };
      expect(attestation.kind).toBe('azure-guest');
      const claims = decodeJwt(attestation.token);
      expect(claims).toMatchObject({ 'x-ms-attestation-type': 'azurevm', secureboot: true, 'x-ms-azurevm-attested-pcrs': [0, 1, 2, 3, 4, 5, 6, 7], 'x-zt4ai-ak-cert-verified': true, 'x-zt4ai-tcg-log-verified': true, 'x-zt4ai-fresh': false });
      expect(claims['x-ms-isolation-tee']).toMatchObject({ 'x-ms-attestation-type': 'sevsnpvm', 'x-ms-compliance-status': 'azure-compliant-cvm' });
      // The wrapping key MAA publishes is the vTPM's ephemeral key, which the runtime data names too.
      const runtime = JSON.parse(Buffer.from(attestation.runtimeData, 'base64url').toString('utf8')) as { keys: Array<{ kid: string; n: string }> };
      const keys = (claims['x-ms-runtime'] as { keys: Array<{ kid: string; n: string }> }).keys;
      expect(keys[0]!.kid).toBe('TpmEphemeralEncryptionKey');
      expect(runtime.keys[0]).toMatchObject({ kid: 'TpmEphemeralEncryptionKey', n: keys[0]!.n });
      const res = await fetch(`${runner.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ messages: [{ role: 'user', content: 'Hello' }], max_tokens: 8 }) });
      expect(res.status).toBe(200);
      expect(imds.requests.some((r) => r.status === 200 && r.clientId === RUNNER_ID)).toBe(true);
      // A client re-checks the AzureGuest evidence itself, and the release policy over it.
      const simRoots = join(azure.dir, 'sim-roots.pem');
      writeFileSync(simRoots, simulatedRootsPem(await roots()));
      const verified = await cli(['runner', 'verify', runner.url, '--sim-roots', simRoots, '--policy', policyFile, '--json']);
      const checks = (JSON.parse(verified.stdout) as { checks: Array<{ name: string; ok: boolean | null }> }).checks;
      expect(Object.fromEntries(checks.map((c) => [c.name, c.ok]))).toMatchObject({ evidence: true, 'report-data': true, quote: true, 'runtime-data': true, 'token-binding': true, 'token-signature': true, policy: true, endpoint: null });
      expect(verified.code).toBe(0);
    } finally {
      await runner.stop();
    }
  });

  it('a PCR value altered on the way is refused (ERR_AZURE_GUEST_REJECTED: ERR_TPM_PCR_DIGEST)', async () => {
    const proxy = await guestProxy({
      info: (info) => {
        const pcrs = (info.TpmInfo.PCRs as Array<{ Index: number; Digest: string }>).map((p) => (p.Index === 7 ? { ...p, Digest: createHash('sha256').update('another boot').digest('base64') } : p));
        return { ...info, TpmInfo: { ...info.TpmInfo, PCRs: pcrs } };
      },
    });
    try {
      const { err } = await failing({ attestation: { kind: 'azure-maa', url: proxy.url } });
      expect([err.code, err.step, err.reason?.code]).toEqual(['ERR_RUNNER_ATTEST_REFUSED', 'attest', 'ERR_AZURE_GUEST_REJECTED']);
      expect(err.reason?.details?.map((d) => d.code)).toEqual(['ERR_TPM_PCR_DIGEST']);
    } finally {
      await proxy.close();
    }
  });

  it('the TCG log of another boot does not replay to the quoted PCRs (ERR_TCG_LOG_REPLAY)', async () => {
    const another = writeTcgLog(defaultBootEvents().filter((e) => e.eventType !== TCG_EV.S_CRTM_VERSION)).log;
    const proxy = await guestProxy({ info: (info) => ({ ...info, TcgLogs: another.toString('base64') }) });
    try {
      const { err } = await failing({ attestation: { kind: 'azure-maa', url: proxy.url } });
      expect(err.reason?.details?.map((d) => d.code)).toEqual(['ERR_TCG_LOG_REPLAY']);
      expect(err.reason?.details?.[0]?.message).toMatch(/PCR 0\b/);
    } finally {
      await proxy.close();
    }
  });

  it('a SecureBoot variable edited in the log (digests kept) is refused (ERR_TCG_LOG_EVENT)', async () => {
    const name = Buffer.from('SecureBoot', 'utf16le');
    const proxy = await guestProxy({
      info: (info) => {
        const log = Buffer.from(info.TcgLogs, 'base64');
        log[log.indexOf(name) + name.length]! ^= 0x01;
        return { ...info, TcgLogs: log.toString('base64') };
      },
    });
    try {
      const { err } = await failing({ attestation: { kind: 'azure-maa', url: proxy.url } });
      expect(err.reason?.details?.map((d) => d.code)).toEqual(['ERR_TCG_LOG_EVENT']);
    } finally {
      await proxy.close();
    }
  });

  it('an encryption key other than the certified one is refused (ERR_TPM_CERTIFY_NAME)', async () => {
    const proxy = await guestProxy({ info: (info) => ({ ...info, TpmInfo: { ...info.TpmInfo, EncKeyPub: flip(info.TpmInfo.EncKeyPub as string, (n) => n - 10) } }) });
    try {
      const { err } = await failing({ attestation: { kind: 'azure-maa', url: proxy.url } });
      expect(err.reason?.details?.map((d) => d.code)).toContain('ERR_TPM_CERTIFY_NAME');
    } finally {
      await proxy.close();
    }
  });

  it('an AK certificate from a CA the KRS was not told to trust is refused (ERR_AK_CERT)', async () => {
    const other = await simulatedVtpmCa();
    const cert = await other.issueAkCertificate(azure.vtpm.akPublicKey, 'someone-else');
    const proxy = await guestProxy({ info: (info) => ({ ...info, TpmInfo: { ...info.TpmInfo, AikCert: cert.toString('base64') } }) });
    try {
      const { err } = await failing({ attestation: { kind: 'azure-maa', url: proxy.url } });
      expect(err.reason?.details?.map((d) => d.code)).toEqual(['ERR_AK_CERT']);
    } finally {
      await proxy.close();
    }
  });

  it('an answer altered on the way cannot be opened by the vTPM (ERR_RUNNER_ATTEST_INVALID)', async () => {
    const proxy = await guestProxy({ answer: (env) => ({ ...env, Jwt: flip(env.Jwt!, () => 0) }) });
    try {
      const { err, runner } = await failing({ attestation: { kind: 'azure-maa', url: proxy.url } });
      expect([err.code, err.step, err.reason?.code]).toEqual(['ERR_RUNNER_ATTEST_INVALID', 'attest', 'ERR_MAA_ENVELOPE_DECRYPT']);
      expect(runner.status().steps.find((s) => s.name === 'release')!.state).toBe('pending');
    } finally {
      await proxy.close();
    }
  });

  it('an answer encrypted to another key is refused by the TPM, not read', async () => {
    const proxy = await guestProxy({ answer: (env) => ({ ...env, EncryptedInnerKey: randomBytes(256).toString('base64') }) });
    try {
      const { err } = await failing({ attestation: { kind: 'azure-maa', url: proxy.url } });
      expect([err.code, err.reason?.code]).toEqual(['ERR_RUNNER_ATTEST_INVALID', 'ERR_MAA_ENVELOPE_DECRYPT']);
    } finally {
      await proxy.close();
    }
  });

  it('a runner whose configuration differs from the one the policy pins gets no key (ERR_RUNNER_RELEASE_DENIED)', async () => {
    const { err } = await failing({ systemPrompt: 'Another system prompt.' });
    expect([err.code, err.step]).toEqual(['ERR_RUNNER_RELEASE_DENIED', 'release']);
  });
});
