import type { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { KdsClient } from '../../attestation/kds/client.js';
import { loadPemBundle } from '../../attestation/snp/certificate.js';
import type { EndorsementFetcher } from '../../attestation/snp/endorsements.js';
import { type TrustStore, amdTrustStore, trustAnchorsFromPem } from '../../attestation/snp/trust.js';
import type { KrsAppDeps } from './app.js';
import type { KrsConfig } from './config.js';
import { ensureDataDir } from './data-dir.js';
import { KrsStartupError } from './errors.js';
import { composeKeyRelease } from './key-release-compose.js';
import { ChallengeService, loadNonceKey } from './nonce.js';
import { SigningKeyStore } from './signing-keys.js';

/** What only the caller can supply: src/ never imports the simulator, so its roots arrive as PEM. */
export interface KrsCompositionExtras {
  /** PEM bundles of simulated ARK/ASK/ASVK. Trusted only with config.trustSimulator; else used to diagnose. */
  readonly simulatedRootsPem?: readonly string[];
  readonly logger?: Logger;
  readonly clock?: () => Date;
  /** Replaces the AMD KDS client (tests use a fake); only consulted when config.kds.enabled. */
  readonly endorsements?: EndorsementFetcher;
}

/**
 * The composition root: opens the data directory (signing keys, nonce key, keystore and audit log, KEK,
 * release signer, checkpoint key), builds the trust store and the optional KDS client, reads the TLS and
 * administrator files. Every failure is a KrsStartupError with an actionable message.
 */
export async function composeKrs(config: KrsConfig, extras: KrsCompositionExtras = {}): Promise<Omit<KrsAppDeps, 'issuer'>> {
  const clock = extras.clock ?? (() => new Date());
  await ensureDataDir(config.dataDir);
  const signingKeys = await SigningKeyStore.open(config.dataDir, { keyBits: config.signingKeyBits, clock });
  const nonceKey = await loadNonceKey(config.dataDir, config.nonceKey);
  const challenges = new ChallengeService(nonceKey, { lifetimeSeconds: config.challengeLifetimeSeconds, clock, replayProtection: config.replayProtection });
  const simulated = await simulatedAnchors(config, extras.simulatedRootsPem ?? []);
  if (config.trustSimulator && simulated.length === 0) {
    throw new KrsStartupError('ERR_CONFIG', 'trustSimulator is on but no simulated roots were given (simulatorRootsFile, or the CLI\'s --trust-simulator)');
  }
  const endorsements = config.kds.enabled ? (extras.endorsements ?? new KdsClient({ baseUrl: config.kds.baseUrl, ...(config.kds.cacheDir ? { cacheDir: config.kds.cacheDir } : {}) })) : undefined;
  const https = config.tls ? await readTls(config.tls) : undefined;
  const akCertAnchors = config.azureCvm.akCertAnchorsFile ? await readAkAnchors(config.azureCvm.akCertAnchorsFile) : undefined;
  // Last: it opens the store, which nothing after it could close on failure.
  const keyRelease = await composeKeyRelease(config, { ...(extras.logger ? { logger: extras.logger } : {}), clock });
  return {
    config,
    signingKeys,
    challenges,
    trust: config.trustSimulator ? [...amdTrustStore(), ...simulated] : amdTrustStore(),
    ...(!config.trustSimulator && simulated.length > 0 ? { simulatedAnchors: simulated } : {}),
    ...(endorsements ? { endorsements } : {}),
    ...(akCertAnchors ? { akCertAnchors } : {}),
    clock,
    ...(extras.logger ? { logger: extras.logger } : {}),
    ...(https ? { https } : {}),
    keyRelease,
  };
}

async function simulatedAnchors(config: KrsConfig, pems: readonly string[]): Promise<TrustStore> {
  const all = [...pems];
  if (config.simulatorRootsFile) all.push(await readText(config.simulatorRootsFile, 'ERR_CONFIG', 'simulated roots'));
  try {
    return all.flatMap((pem) => trustAnchorsFromPem(pem, { simulated: true }));
  } catch (cause) {
    throw new KrsStartupError('ERR_CONFIG', `simulated roots: ${(cause as Error).message}`, { cause });
  }
}

/** The vTPM CA certificates of azureCvm.akCertAnchorsFile: at least one, each a parseable certificate. */
async function readAkAnchors(path: string): Promise<X509Certificate[]> {
  const pem = await readText(path, 'ERR_CONFIG', 'AK certificate anchors');
  try {
    return loadPemBundle(pem).map((c) => c.x509);
  } catch (cause) {
    throw new KrsStartupError('ERR_CONFIG', `azureCvm.akCertAnchorsFile "${path}": ${(cause as Error).message}`, { cause });
  }
}

async function readTls(tls: NonNullable<KrsConfig['tls']>): Promise<{ cert: Buffer; key: Buffer }> {
  const cert = Buffer.from(await readText(tls.certFile, 'ERR_TLS', 'TLS certificate'));
  const key = Buffer.from(await readText(tls.keyFile, 'ERR_TLS', 'TLS key'));
  return { cert, key };
}

async function readText(path: string, code: KrsStartupError['code'], what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (cause) {
    throw new KrsStartupError(code, `cannot read ${what} file "${path}": ${(cause as NodeJS.ErrnoException).code ?? 'error'}`, { cause });
  }
}
