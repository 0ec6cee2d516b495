import type { TokenCredential } from '@azure/identity';
import { decodeJwt } from 'jose';
import type { Dispatcher } from 'undici';
import type { OpenedRelease } from '../../keys/release/open-response.js';
import type { Logger } from 'pino';
import { configDigest } from '../config/digest.js';
import { RunnerError } from '../errors.js';
import type { AzureBlobSource, RunnerConfig } from '../config/types.js';
import { type ProbePaths, selectEvidenceSource } from '../evidence/detect.js';
import { CONFIG_PAYLOAD } from '../evidence/azure-guest.js';
import type { EvidenceSource } from '../evidence/source.js';
import type { InferenceBackend } from '../backends/backend.js';
import { loadBackend } from '../backends/load.js';
import { type RunnerAttestation, attestationRecord } from '../serve/attestation.js';
import { AttestClient } from './attest-client.js';
import { type FetchedModel, fetchSealedModel } from './blob-fetch.js';
import { azureCredential, credentialFor, releaseTrustFor } from './credentials.js';
import { dispatcherFor } from './http.js';
import { verifySealedSignature } from './model-signature.js';
import { memoryStore, tmpfsStore } from './plaintext.js';
import { releaseModelKey } from './release-client.js';
import { type RuntimeEndpoint, buildRuntimeData, reportDataFor } from './runtime-data.js';
import type { Secrets } from './secrets.js';
import type { StepRecorder } from './steps.js';
import { type TeeKey, generateTeeKey } from './tee-key.js';
import { sealedKeyReference, unsealInto } from './unseal.js';

/** What only tests (and special deployments) replace. */
export interface StartupOptions {
  /** Where auto-detection looks for evidence sources. */
  readonly probe?: ProbePaths;
  readonly evidenceTimeoutMs?: number;
  /** Replaces the configured key-service credential. */
  readonly credential?: TokenCredential;
}

/** What the start-up sequence works with; `serve` is how it hands the loaded model to the API. */
export interface StartupContext {
  readonly config: RunnerConfig;
  readonly steps: StepRecorder;
  readonly secrets: Secrets;
  readonly logger: Logger;
  readonly signal: AbortSignal;
  readonly options: StartupOptions;
  /** Called by the last step: from then on the API serves. */
  readonly serve: (backend: InferenceBackend, model: ServedModel) => void;
  /** Bound into the runtime data: the TLS key's SPKI digest, or the listen URL. */
  readonly endpoint?: RuntimeEndpoint;
  /** Called once the attestation service has issued the token: what `GET /attestation` shows. */
  readonly attested?: (attestation: RunnerAttestation) => void;
}

/** The model being served, as /status shows it. */
export interface ServedModel {
  readonly id: string;
  readonly rootDigest: string;
  readonly signer: string;
  readonly files: number;
  readonly keyId: string;
}

/**
 * The start-up sequence: TEE key, evidence bound to it (and to the KRS challenge and the configuration
 * digest), attestation, key release, the model's signature, unsealing, loading, serving. Each step is
 * timed and logged; the first failure stops the sequence (the caller wipes what was obtained).
 */
export async function runStartup(ctx: StartupContext): Promise<void> {
  const blob = ctx.config.sealedModel.blob;
  const fetched = blob ? await downloadSealedModel(ctx, blob) : null;
  try {
    await startWith(ctx, fetched?.dir ?? ctx.config.sealedModel.path);
  } finally {
    await fetched?.remove();
  }
}

/** Azure Blob Storage: the sealed directory (ciphertext) is downloaded with the workload identity, before anything else. */
function downloadSealedModel(ctx: StartupContext, blob: AzureBlobSource): Promise<FetchedModel> {
  return ctx.steps.run(
    'model-download',
    async () => fetchSealedModel({ source: blob, parentDir: ctx.config.sealedModel.path, credential: await azureCredential(blob.managedIdentityClientId), signal: ctx.signal }),
    (f) => ({ from: `${blob.accountUrl}/${blob.container}/${blob.prefix}`, dir: f.dir, files: f.files, bytes: f.bytes, skipped: f.skipped }),
  );
}

async function startWith(ctx: StartupContext, sealedDir: string): Promise<void> {
  const { config, steps } = ctx;
  const tee = await steps.run('tee-key', () => generateTeeKey(config.teeKeyBits), (t) => ({ kid: t.publicJwk.kid, bits: t.bits }));
  const released = await withNetwork(config, (net) => obtainKey(ctx, net, tee, sealedDir));
  const verified = await steps.run('model-signature', () => verifySealedSignature(sealedDir, config.trustedSigners), (v) => ({ rootDigest: v.rootDigest, signer: v.signer, files: v.manifest.resources.length }));
  const { unsealed, store } = await steps.run(
    'unseal',
    async () => {
      const store = ctx.secrets.store(config.sealedModel.unsealTo === 'memory' ? memoryStore() : await tmpfsStore(config.sealedModel.plaintextDir));
      const bytes = (await sealedKeyReference(sealedDir).catch(() => null))?.plaintextBytes ?? 0;
      const unsealed = await unsealInto(sealedDir, released, verified, store, bytes);
      // The data key did its work: the released key is not needed any more.
      released.material.fill(0);
      return { unsealed, store };
    },
    ({ unsealed: u, store: st }) => ({ into: st.kind, ...(st.dir ? { dir: st.dir } : {}), files: u.files.length, bytes: u.files.reduce((n, f) => n + f.size, 0) }),
  );
  const backend = await steps.run('load-model', () => loadBackend(config, store, (w) => ctx.secrets.store(w), ctx.signal), (b) => ({ backend: b.kind, modelId: config.modelId, ...b.detail }));
  await steps.run('serve', async () => {
    ctx.serve(backend, { id: config.modelId, rootDigest: unsealed.rootDigest, signer: verified.signer, files: unsealed.files.length, keyId: released.kid });
  });
}

interface Network {
  readonly attest: Dispatcher | undefined;
  readonly keys: Dispatcher | undefined;
}

/** Connection pools for the attestation and key services (their own CAs), closed once the key is released. */
async function withNetwork<T>(config: RunnerConfig, fn: (net: Network) => Promise<T>): Promise<T> {
  const attest = await dispatcherFor(config.attestation.tlsCaFile);
  const keys = config.keySource.tlsCaFile === config.attestation.tlsCaFile ? attest : await dispatcherFor(config.keySource.tlsCaFile);
  try {
    return await fn({ attest, keys });
  } finally {
    await attest?.close();
    if (keys !== attest) await keys?.close();
  }
}

/** Evidence over the runtime data, attestation, release: the steps that talk to the services. */
async function obtainKey(ctx: StartupContext, net: Network, tee: TeeKey, sealedDir: string): Promise<OpenedRelease> {
  const { config, steps, signal } = ctx;
  const digest = configDigest(config);
  const attest = new AttestClient(config.attestation, net.attest, signal);
  let source: EvidenceSource | null = null;
  const collected = await steps.run(
    'evidence',
    async () => {
      source = await selectEvidenceSource(config.evidence, ctx.options.probe, ctx.options.evidenceTimeoutMs);
      if (source.simulated) ctx.logger.warn({ location: source.location }, 'SIMULATED EVIDENCE: this runner proves nothing about real hardware. Never do this in production.');
      // An Azure vTPM attesting to MAA (no challenges) takes MAA's own AzureGuest flow, whose answers and
      // releases are encrypted to the vTPM's ephemeral key, not to the in-memory TEE key.
      if (source.guestEvidence && !attest.issuesChallenges) {
        const guest = await source.guestEvidence({ runtimeDataFor: (key) => buildRuntimeData(key, null, digest, ctx.endpoint), clientPayload: { [CONFIG_PAYLOAD]: digest } });
        return { runtimeData: guest.runtimeData, fresh: false, evidence: guest.evidence, tee: guest.key as TeeKey };
      }
      if (source.needsChallenge && !attest.issuesChallenges) {
        throw new RunnerError(
          'ERR_RUNNER_CONFIG',
          `${source.kind} evidence binds the runtime data only through a TPM quote over the attestation service's challenge, and attestation.kind "${config.attestation.kind}" issues none: attest to a zt4ai KRS (attestation.kind "zt4ai-krs", which takes this evidence at POST /attest/AzureCvm)`,
        );
      }
      const nonce = await attest.challenge();
      const runtimeData = buildRuntimeData(tee, nonce, digest, ctx.endpoint);
      return { runtimeData, fresh: nonce !== null, evidence: await source.getReport(reportDataFor(runtimeData), { runtimeData, challenge: nonce }), tee };
    },
    (c) => ({
      source: source?.kind,
      location: source?.location,
      simulated: source?.simulated,
      flow: c.evidence.azureGuest ? 'azure-guest' : c.evidence.azure ? 'azure-cvm' : 'sevsnp',
      fresh: c.fresh,
      configSha256: digest,
      teeKid: c.tee.publicJwk.kid,
      certificates: Object.keys(c.evidence.certificates),
    }),
  );
  const token = await steps.run('attest', () => attest.attest(collected.evidence, collected.runtimeData), tokenSummary);
  ctx.attested?.(attestationRecord(collected.evidence, collected.runtimeData, token));
  const { opened } = await steps.run(
    'release',
    async () => {
      const credential = ctx.options.credential ?? (await credentialFor(config.keySource));
      const { trust, source: trustSource } = await releaseTrustFor(config.keySource, net.keys, signal);
      const version = config.keySource.keyVersion ?? (await sealedVersion(sealedDir, config.keySource.keyName));
      const opened = await releaseModelKey({ config: config.keySource, version, credential, target: token, tee: collected.tee, trust, signal });
      ctx.secrets.buffer(opened.material);
      return { opened, trustSource };
    },
    ({ opened: o, trustSource }) => ({ kid: o.kid, kty: o.kty, enc: o.enc, signerSha256: o.signer.sha256, trustedVia: trustSource }),
  );
  return opened;
}

/** The key version the sealed headers name, when they name one of the configured key. */
async function sealedVersion(sealedDir: string, keyName: string): Promise<string | null> {
  const ref = await sealedKeyReference(sealedDir).catch(() => null);
  if (!ref) return null;
  try {
    const m = /\/keys\/([^/]+)\/([0-9A-Za-z]{1,64})\/?$/.exec(new URL(ref.kid).pathname);
    return m && m[1] === keyName ? m[2]! : null;
  } catch {
    return null;
  }
}

/** What /status may show of the token: its issuer, lifetime and the flags a policy decides on. Never the token. */
function tokenSummary(token: string): Record<string, unknown> {
  try {
    const c = decodeJwt(token);
    // Confidential-VM tokens (MAA's shape) carry the SNP claims under x-ms-isolation-tee.
    const tee = (c['x-ms-isolation-tee'] ?? {}) as Record<string, unknown>;
    const claim = (name: string): unknown => c[name] ?? tee[name] ?? null;
    return { issuer: c.iss, expires: c.exp ? new Date(c.exp * 1000).toISOString() : null, simulated: claim('x-zt4ai-simulated') ?? false, fresh: claim('x-zt4ai-fresh'), debuggable: claim('x-ms-sevsnpvm-is-debuggable') };
  } catch {
    return {};
  }
}
