import { type KeyObject, generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TokenCredential } from '@azure/identity';
import { KeyClient } from '@azure/keyvault-keys';
import { rsaOaepWrapper } from '../../keys/sealing/data-keys.js';
import { sealModel } from '../../keys/sealing/seal-model.js';
import { type SimulatedRoots, SimulatedFirmware, TsmResponder, createSimulatedRoots, simulatedRootsPem } from '../../simulator/index.js';
import { resolveKrsConfig } from '../../src/krs/config.js';
import { type KrsServer, startKrsServer } from '../../src/krs/server.js';
import { makeDemoModel } from '../../enclave-runner/backends/ngram/demo-model.js';
import { configDigest } from '../../enclave-runner/config/digest.js';
import { resolveRunnerConfig } from '../../enclave-runner/config/load.js';
import type { RunnerConfig } from '../../enclave-runner/config/types.js';

/** One seed for every runner test: the simulator's fixture keys make the roots instantly. */
let rootsPromise: Promise<SimulatedRoots> | null = null;
export function roots(): Promise<SimulatedRoots> {
  rootsPromise ??= createSimulatedRoots({ seed: 'zt4ai runner tests' });
  return rootsPromise;
}

export interface StackOptions {
  /** Extra release-policy clauses (allOf), besides simulated, fresh, not debuggable and the pinned configuration. */
  readonly clauses?: ReadonlyArray<Record<string, unknown>>;
  /** Pin the digest of the runner config with these overrides (default: none, the plain n-gram runner). */
  readonly pinOverrides?: Record<string, unknown>;
  /** Further runner configurations whose digests the policy also accepts (several runners share one key). */
  readonly pinAlso?: ReadonlyArray<Record<string, unknown>>;
  /** The model directory to sign and seal (default: the n-gram demo model, made fresh). */
  readonly modelDir?: string;
}

/**
 * The whole stack on loopback, as the demo builds it: a KRS trusting the simulator with an administrator
 * token, an exportable RSA key under a strict release policy, the demo model signed and sealed to that
 * key, and a simulated configfs-tsm tree answered by a responder. `config()` gives a runner config for it.
 */
export interface Stack {
  readonly dir: string;
  readonly krs: KrsServer;
  readonly tokenFile: string;
  readonly keyId: string;
  readonly sealedDir: string;
  readonly signerPubFile: string;
  /** The trusted model signer's private key (to sign variants of the model). */
  readonly signer: KeyObject;
  readonly tsmDir: string;
  readonly credential: TokenCredential;
  readonly keys: KeyClient;
  /** A runner configuration (JSON, as a file holds it) for this stack, with overrides merged at the top level. */
  configJson(overrides?: Record<string, unknown>): Record<string, unknown>;
  config(overrides?: Record<string, unknown>): Promise<RunnerConfig>;
  /** A second simulated configfs-tsm tree, answered by firmware with other guest settings (e.g. debuggable). */
  tsmTree(guest: { policy?: bigint }): Promise<string>;
  close(): Promise<void>;
}

export async function startStack(o: StackOptions = {}): Promise<Stack> {
  const dir = mkdtempSync(join(tmpdir(), 'zt4ai-runner-test-'));
  const r = await roots();
  const token = randomBytes(24).toString('base64url');
  const tokenFile = join(dir, 'admin.token');
  writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
  const krs = await startKrsServer(
    resolveKrsConfig({ listen: '127.0.0.1:0', dataDir: join(dir, 'krs'), trustSimulator: true, logLevel: 'silent', signingKeyBits: 2048, requireFreshness: true, adminAuth: { tokenFile } }, dir),
    { simulatedRootsPem: [simulatedRootsPem(r)] },
  );
  const credential: TokenCredential = { getToken: async () => ({ token, expiresOnTimestamp: Date.now() + 3_600_000 }) };
  const keys = new KeyClient(krs.url, credential, { allowInsecureConnection: true, disableChallengeResourceVerification: true, retryOptions: { maxRetries: 0 } });
  const signer = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const signerPubFile = join(dir, 'signer.pub.pem');
  writeFileSync(signerPubFile, signer.publicKey.export({ type: 'spki', format: 'pem' }));
  const responders: TsmResponder[] = [];
  const tsmTree = async (guest: { policy?: bigint }): Promise<string> => {
    const tsm = mkdtempSync(join(dir, 'tsm-'));
    mkdirSync(join(tsm, 'report'));
    const responder = new TsmResponder(tsm, new SimulatedFirmware({ root: r.Genoa, ...(guest.policy === undefined ? {} : { guest: { policy: guest.policy } }) }), { intervalMs: 10 });
    responder.start();
    responders.push(responder);
    return tsm;
  };
  const tsmDir = await tsmTree({});
  const configJson = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
    listen: '127.0.0.1:0',
    evidence: { kind: 'simulated', path: tsmDir },
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
  const digests = [configDigest(await config(o.pinOverrides))];
  for (const extra of o.pinAlso ?? []) digests.push(configDigest(await config(extra)));
  const policy = {
    version: '1.0.0',
    anyOf: [
      {
        authority: krs.issuer,
        allOf: [
          { claim: 'x-ms-attestation-type', equals: 'sevsnpvm' },
          { claim: 'x-zt4ai-simulated', equals: true },
          { claim: 'x-zt4ai-fresh', equals: true },
          { claim: 'x-ms-sevsnpvm-is-debuggable', equals: false },
          digests.length === 1 ? { claim: 'x-ms-runtime.x-zt4ai-config', equals: digests[0] } : { claim: 'x-ms-runtime.x-zt4ai-config', in: digests },
          ...(o.clauses ?? []),
        ],
      },
    ],
  };
  const key = await keys.createKey('model-key', 'RSA-HSM', { keySize: 2048, exportable: true, releasePolicy: { encodedPolicy: new TextEncoder().encode(JSON.stringify(policy)) } });
  let model = o.modelDir;
  if (model === undefined) {
    model = join(dir, 'model');
    await makeDemoModel(model);
  }
  const sealedDir = join(dir, 'sealed');
  const jwk = { kty: 'RSA', n: Buffer.from(key.key!.n!).toString('base64url'), e: Buffer.from(key.key!.e!).toString('base64url') };
  await sealModel(model, { outDir: sealedDir, key: { wrapper: rsaOaepWrapper(jwk, key.id!) }, sign: { privateKey: signer.privateKey }, threads: 0 });
  return {
    dir,
    krs,
    tokenFile,
    keyId: key.id!,
    sealedDir,
    signerPubFile,
    signer: signer.privateKey,
    tsmDir,
    credential,
    keys,
    configJson,
    config,
    tsmTree,
    close: async () => {
      for (const t of responders) await t.stop();
      await krs.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
