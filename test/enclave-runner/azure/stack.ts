import { type KeyObject, generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TokenCredential } from '@azure/identity';
import { KeyClient } from '@azure/keyvault-keys';
import { makeDemoModel } from '../../../enclave-runner/backends/ngram/demo-model.js';
import { configDigest } from '../../../enclave-runner/config/digest.js';
import { resolveRunnerConfig } from '../../../enclave-runner/config/load.js';
import type { RunnerConfig } from '../../../enclave-runner/config/types.js';
import { rsaOaepWrapper } from '../../../keys/sealing/data-keys.js';
import { sealModel } from '../../../keys/sealing/seal-model.js';
import { type SwtpmVtpm, simulatedVtpmCa, startSwtpmVtpm } from '../../../simulator/azure/index.js';
import { SimulatedFirmware, simulatedRootsPem } from '../../../simulator/index.js';
import { resolveKrsConfig } from '../../../src/krs/config.js';
import { type KrsServer, startKrsServer } from '../../../src/krs/server.js';
import { roots } from '../stack.js';
import { type Chain, type FakeServer, chainOf, startFakeThim } from './fakes.js';

/**
 * The Azure confidential-VM stack on loopback: a KRS trusting the simulator that speaks
 * `POST /attest/AzureCvm` and reports `azure-compliant-cvm` (so Microsoft's confidential-VM release policy
 * works unchanged), an exportable RSA key under that policy (plus freshness, simulated evidence, not
 * debuggable, and the pinned runner configuration), the demo model signed and sealed to it, a swtpm vTPM
 * provisioned like Azure's, and a THIM endpoint serving the VCEK chain. `config()` gives a runner config
 * with evidence `azure-vtpm` on that vTPM.
 */
export interface AzureStack {
  readonly dir: string;
  readonly krs: KrsServer;
  readonly tokenFile: string;
  readonly keyId: string;
  readonly signer: KeyObject;
  readonly firmware: SimulatedFirmware;
  readonly chain: Chain;
  readonly vtpm: SwtpmVtpm;
  readonly thim: FakeServer;
  readonly keys: KeyClient;
  /** The release policy's clauses, for tests that make keys of their own. */
  readonly clauses: ReadonlyArray<Record<string, unknown>>;
  configJson(overrides?: Record<string, unknown>): Record<string, unknown>;
  config(overrides?: Record<string, unknown>): Promise<RunnerConfig>;
  close(): Promise<void>;
}

export interface AzureStackOptions {
  /** The firmware behind the vTPM (default: a simulated Genoa). */
  readonly firmware?: SimulatedFirmware;
  /** Where THIM is (default: a fake THIM the stack starts). */
  readonly thimUrl?: string;
  /** Also accept JWTs of this issuer (e.g. the simulated IMDS's managed-identity tokens), roles in `roles`. */
  readonly adminJwtIssuer?: string;
}

export async function startAzureStack(o: AzureStackOptions = {}): Promise<AzureStack> {
  const dir = mkdtempSync(join(tmpdir(), 'zt4ai-azure-runner-'));
  const r = await roots();
  const token = randomBytes(24).toString('base64url');
  const tokenFile = join(dir, 'admin.token');
  writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
  // The vTPM's (simulated) AK certificate CA, which the KRS is told to trust for AzureGuest evidence.
  const akCa = await simulatedVtpmCa();
  writeFileSync(join(dir, 'vtpm-ca.pem'), akCa.pem);
  const krs = await startKrsServer(
    resolveKrsConfig(
      {
        listen: '127.0.0.1:0',
        dataDir: join(dir, 'krs'),
        trustSimulator: true,
        logLevel: 'silent',
        signingKeyBits: 2048,
        requireFreshness: true,
        adminAuth: { tokenFile, ...(o.adminJwtIssuer ? { jwt: { issuer: o.adminJwtIssuer, rolesClaim: 'roles' } } : {}) },
        azureCvm: { complianceStatus: 'azure-compliant-cvm', akCertAnchorsFile: 'vtpm-ca.pem' },
      },
      dir,
    ),
    { simulatedRootsPem: [simulatedRootsPem(r)] },
  );
  const credential: TokenCredential = { getToken: async () => ({ token, expiresOnTimestamp: Date.now() + 3_600_000 }) };
  const keys = new KeyClient(krs.url, credential, { allowInsecureConnection: true, disableChallengeResourceVerification: true, retryOptions: { maxRetries: 0 } });
  const signer = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const signerPubFile = join(dir, 'signer.pub.pem');
  writeFileSync(signerPubFile, signer.publicKey.export({ type: 'spki', format: 'pem' }));
  const firmware = o.firmware ?? new SimulatedFirmware({ root: r.Genoa });
  const chain = chainOf(firmware);
  const vtpm = await startSwtpmVtpm({ firmware, akCa });
  const thim = await startFakeThim(chain);
  const thimUrl = o.thimUrl ?? thim.url;
  const configJson = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
    listen: '127.0.0.1:0',
    evidence: { kind: 'azure-vtpm', tcti: vtpm.tcti, thimUrl },
    teeKeyBits: 2048,
    attestation: { url: krs.url },
    keySource: { url: `${krs.url}/keys/model-key`, tokenFile },
    sealedModel: { path: join(dir, 'sealed') },
    trustedSigners: [{ publicKeyFile: signerPubFile }],
    systemPrompt: 'You are the zt4ai demo model. Answer in one or two sentences.',
    logLevel: 'silent',
    ...overrides,
  });
  const config = (overrides: Record<string, unknown> = {}): Promise<RunnerConfig> => resolveRunnerConfig(configJson(overrides), dir);
  const clauses = [
    // Microsoft's confidential-VM release policy, unchanged (see the KRS's azureCvm.complianceStatus) ...
    { claim: 'x-ms-isolation-tee.x-ms-attestation-type', equals: 'sevsnpvm' },
    { claim: 'x-ms-isolation-tee.x-ms-compliance-status', equals: 'azure-compliant-cvm' },
    // ... and zt4ai's: not debuggable, simulated evidence (this is CI), fresh, and this runner configuration.
    { claim: 'x-ms-isolation-tee.x-ms-sevsnpvm-is-debuggable', equals: false },
    { claim: 'x-zt4ai-simulated', equals: true },
    { claim: 'x-zt4ai-fresh', equals: true },
    { claim: 'x-ms-runtime.x-zt4ai-config', equals: configDigest(await config()) },
  ];
  const policy = { version: '1.0.0', anyOf: [{ authority: krs.issuer, allOf: clauses }] };
  const key = await keys.createKey('model-key', 'RSA-HSM', { keySize: 2048, exportable: true, releasePolicy: { encodedPolicy: new TextEncoder().encode(JSON.stringify(policy)) } });
  const model = join(dir, 'model');
  await makeDemoModel(model);
  const jwk = { kty: 'RSA', n: Buffer.from(key.key!.n!).toString('base64url'), e: Buffer.from(key.key!.e!).toString('base64url') };
  await sealModel(model, { outDir: join(dir, 'sealed'), key: { wrapper: rsaOaepWrapper(jwk, key.id!) }, sign: { privateKey: signer.privateKey }, threads: 0 });
  return {
    dir,
    krs,
    tokenFile,
    keyId: key.id!,
    signer: signer.privateKey,
    firmware,
    chain,
    vtpm,
    thim,
    keys,
    clauses,
    configJson,
    config,
    close: async () => {
      await thim.close();
      await vtpm.stop();
      await krs.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
