import { createHash, generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunnerError } from '../../enclave-runner/errors.js';
import { type RunningRunner, launchRunner } from '../../enclave-runner/runner.js';
import { SWTPM_INSTALL_HINT, type SimulatedImds, missingSwtpmTools, startSimulatedImds, thimFor } from '../../simulator/azure/index.js';
import { SimulatedFirmware } from '../../simulator/index.js';
import { type AzureStack, startAzureStack } from '../enclave-runner/azure/stack.js';
import { failedStart } from '../enclave-runner/runner-failure.js';
import { roots } from '../enclave-runner/stack.js';

/**
 * The runner on a (simulated) Azure confidential VM, end to end through the real tpm2-tools path: swtpm
 * provisioned like Azure's vTPM (AK at 0x81000003, HCL report at NV 0x01400001), the runner's evidence
 * `azure-vtpm` on its TCTI, THIM for the VCEK chain, the KRS's POST /attest/AzureCvm, a Microsoft-style
 * confidential-VM release policy, Secure Key Release, unsealing, serving. Then evidence altered on its way
 * to the KRS is refused with the KRS's reason.
 */
const missing = missingSwtpmTools();
const skipped = missing.length > 0 ? ` (SKIPPED: ${missing.join(', ')} not on PATH; ${SWTPM_INSTALL_HINT})` : '';

let stack: AzureStack;
beforeAll(async () => {
  if (missing.length === 0) stack = await startAzureStack();
});
afterAll(async () => {
  await stack?.close();
});

/** A runner that must fail; its error and status. */
function failing(overrides: Record<string, unknown>): Promise<{ err: RunnerError; runner: RunningRunner }> {
  return stack.config(overrides).then(failedStart);
}

/** A loopback proxy in front of the KRS that rewrites the JSON body of POST /attest/AzureCvm. */
async function tamperingProxy(rewrite: (body: Record<string, unknown>) => Record<string, unknown>): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      let body: Buffer | undefined = chunks.length > 0 ? Buffer.concat(chunks) : undefined;
      if (req.method === 'POST' && req.url?.startsWith('/attest/AzureCvm') && body) body = Buffer.from(JSON.stringify(rewrite(JSON.parse(body.toString('utf8')) as Record<string, unknown>)));
      const upstream = await fetch(`${stack.krs.url}${req.url}`, { method: req.method!, ...(body ? { body, headers: { 'content-type': 'application/json' } } : {}) });
      res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' });
      res.end(Buffer.from(await upstream.arrayBuffer()));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((r) => server.close(() => r())) };
}

describe.skipIf(missing.length > 0)(`the runner with Azure vTPM evidence (swtpm, tpm2-tools)${skipped}`, () => {
  it('attests through the vTPM, obtains the key under a confidential-VM release policy, unseals and serves the model', async () => {
    const runner = await launchRunner(await stack.config());
    try {
      await runner.ready;
      const status = runner.status();
      expect(status.state).toBe('serving');
      expect(status.steps.map((s) => [s.name, s.ok])).toEqual(['tee-key', 'evidence', 'attest', 'release', 'model-signature', 'unseal', 'load-model', 'serve'].map((n) => [n, true]));
      expect(status.steps[1]!.detail).toMatchObject({ source: 'azure-vtpm', location: stack.vtpm.tcti, simulated: true, fresh: true, certificates: ['vcek', 'ask', 'ark'] });
      expect(status.steps[2]!.detail).toMatchObject({ debuggable: false, fresh: true });
      expect(status.steps[3]!.detail).toMatchObject({ kid: stack.keyId, kty: 'RSA' });
      expect(stack.thim.requests).toContain('GET /metadata/THIM/amd/certification metadata');
      // The token is MAA's confidential-VM shape, bound to this runner's TEE key through the quote.
      const attestation = (await (await fetch(`${runner.url}/attestation`)).json()) as { token: string; runtimeData: string };
      const claims = decodeJwt(attestation.token);
      expect(claims).toMatchObject({ 'x-ms-attestation-type': 'azurevm', 'x-zt4ai-fresh': true, 'x-zt4ai-simulated': true, 'x-zt4ai-tpm-quote-verified': true });
      expect(claims['x-ms-isolation-tee']).toMatchObject({ 'x-ms-attestation-type': 'sevsnpvm', 'x-ms-compliance-status': 'azure-compliant-cvm', 'x-ms-sevsnpvm-vmpl': 0 });
      expect(claims['x-ms-runtime']).toEqual(JSON.parse(Buffer.from(attestation.runtimeData, 'base64url').toString('utf8')));
      expect((claims['x-ms-azurevm-attested-pcrs'] as number[]).length).toBe(24);
      const res = await fetch(`${runner.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'zt4ai-model', messages: [{ role: 'user', content: 'Where does the model run?' }], max_tokens: 12 }),
      });
      expect(res.status).toBe(200);
      const answer = (await res.json()) as { choices: Array<{ message: { content: string } }> };
      expect(answer.choices[0]!.message.content.length).toBeGreaterThan(0);
    } finally {
      await runner.stop();
    }
  });

  it('a PCR value altered on the way to the KRS is refused: ERR_HCL_EVIDENCE_REJECTED with ERR_TPM_PCR_DIGEST', async () => {
    const proxy = await tamperingProxy((body) => {
      const pcrs = { ...(body.pcrs as Record<string, string>) };
      pcrs['7'] = createHash('sha256').update('another boot chain').digest('hex');
      return { ...body, pcrs };
    });
    try {
      const { err, runner } = await failing({ attestation: { url: proxy.url } });
      expect(err.code).toBe('ERR_RUNNER_ATTEST_REFUSED');
      expect(err.step).toBe('attest');
      expect(err.reason?.code).toBe('ERR_HCL_EVIDENCE_REJECTED');
      expect(err.reason?.details?.map((d) => d.code)).toEqual(['ERR_TPM_PCR_DIGEST']);
      expect(runner.status().steps.find((s) => s.name === 'release')!.state).toBe('pending');
    } finally {
      await proxy.close();
    }
  });

  it('runtime data swapped for an attacker\'s key is refused: the quote does not bind it (ERR_QUOTE_NONCE)', async () => {
    const attacker = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' });
    const proxy = await tamperingProxy((body) => {
      const runtime = JSON.parse(Buffer.from((body.runtimeData as { data: string }).data, 'base64url').toString('utf8')) as { keys: unknown[] };
      runtime.keys = [{ ...attacker, kid: 'attacker', key_ops: ['encrypt'] }];
      return { ...body, runtimeData: { data: Buffer.from(JSON.stringify(runtime)).toString('base64url'), dataType: 'JSON' } };
    });
    try {
      const { err } = await failing({ attestation: { url: proxy.url } });
      expect(err.code).toBe('ERR_RUNNER_ATTEST_REFUSED');
      expect(err.reason?.code).toBe('ERR_QUOTE_NONCE');
      expect(err.reason?.details?.map((d) => d.code)).toEqual(['ERR_TPM_QUOTE_NONCE']);
    } finally {
      await proxy.close();
    }
  });

  it('a quote altered on the way is refused with ERR_TPM_QUOTE_SIGNATURE', async () => {
    const proxy = await tamperingProxy((body) => {
      const quote = body.quote as { message: string; signature: string };
      const message = Buffer.from(quote.message, 'base64url');
      message[message.length - 1]! ^= 0x01;
      return { ...body, quote: { ...quote, message: message.toString('base64url') } };
    });
    try {
      const { err } = await failing({ attestation: { url: proxy.url } });
      expect(err.code).toBe('ERR_RUNNER_ATTEST_REFUSED');
      expect(err.reason?.details?.map((d) => d.code)).toContain('ERR_TPM_QUOTE_SIGNATURE');
    } finally {
      await proxy.close();
    }
  });

  it('without tpm2-tools the runner stops at the evidence step, saying how to install them', async () => {
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      const { err } = await failing({});
      expect(err.code).toBe('ERR_RUNNER_TPM_TOOLS_MISSING');
      expect(err.step).toBe('evidence');
      expect(err.message).toContain('apt-get install tpm2-tools');
    } finally {
      process.env.PATH = path;
    }
  });
});

/**
 * The same runner as on Azure with Key Vault: keySource `azure-key-vault` with the VM's managed identity.
 * @azure/identity's real ManagedIdentityCredential gets its token from the simulated IMDS (reached through
 * AZURE_POD_IDENTITY_AUTHORITY_HOST, the SDK's own override), which also serves THIM; the KRS plays Key Vault
 * and accepts that identity's tokens through the issuer's OpenID metadata, with the release role.
 */
describe.skipIf(missing.length > 0)(`the runner on a simulated Azure CVM with Key Vault and a managed identity${skipped}`, () => {
  const RUNNER_ID = '6d1b0a3e-5f7c-4a8e-9b2d-1c3e5f7a9b0d';
  const OTHER_ID = '0f9e8d7c-6b5a-4c3d-8e2f-1a0b9c8d7e6f';
  const saved = process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST;
  let imds: SimulatedImds;
  let azure: AzureStack;
  beforeAll(async () => {
    const firmware = new SimulatedFirmware({ root: (await roots()).Genoa });
    imds = await startSimulatedImds({ identities: [{ clientId: RUNNER_ID, roles: ['keys.release'] }, { clientId: OTHER_ID }], thim: thimFor(firmware.getExtendedReport(Buffer.alloc(64))) });
    process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST = imds.url;
    azure = await startAzureStack({ firmware, thimUrl: imds.url, adminJwtIssuer: imds.issuer });
    writeFileSync(join(azure.dir, 'release-ca.pem'), await (await fetch(`${azure.krs.url}/release-signer/ca`)).text());
  });
  afterAll(async () => {
    await azure?.close();
    await imds?.close();
    if (saved === undefined) delete process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST;
    else process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST = saved;
  });

  const keyVault = (clientId: string) => ({ keySource: { kind: 'azure-key-vault', url: `${azure.krs.url}/keys/model-key`, managedIdentityClientId: clientId, releaseSigner: { caFile: 'release-ca.pem' } } });

  it('attests through the vTPM (THIM from IMDS), releases the key with the managed identity\'s token, and serves', async () => {
    const runner = await launchRunner(await azure.config(keyVault(RUNNER_ID)));
    try {
      await runner.ready;
      expect(runner.status().state).toBe('serving');
      expect(runner.status().steps.find((s) => s.name === 'release')!.detail).toMatchObject({ kid: azure.keyId, trustedVia: join(azure.dir, 'release-ca.pem') });
      const paths = imds.requests.filter((r) => r.status === 200).map((r) => [r.path.replace(/\/$/, ''), r.metadataHeader, r.clientId]);
      expect(paths).toContainEqual(['/metadata/THIM/amd/certification', true, null]);
      expect(paths).toContainEqual(['/metadata/identity/oauth2/token', true, RUNNER_ID]);
      const res = await fetch(`${runner.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ messages: [{ role: 'user', content: 'Hello' }], max_tokens: 8 }) });
      expect(res.status).toBe(200);
    } finally {
      await runner.stop();
    }
  });

  it('an identity without the release role gets no key (ERR_RUNNER_RELEASE_AUTH)', async () => {
    const { err } = await failedStart(await azure.config(keyVault(OTHER_ID)));
    expect(err.code).toBe('ERR_RUNNER_RELEASE_AUTH');
    expect(err.step).toBe('release');
    expect(imds.requests.some((r) => r.status === 200 && r.clientId === OTHER_ID)).toBe(true);
  });
});
