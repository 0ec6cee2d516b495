import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { InferenceBackend } from './backends/backend.js';
import { configDigest } from './config/digest.js';
import type { RunnerConfig } from './config/types.js';
import { isLoopbackHost } from './config/values.js';
import { RunnerError } from './errors.js';
import { createRunnerLogger } from './logging.js';
import { type RunnerMetrics, createRunnerMetrics } from './metrics.js';
import { buildRunnerApp } from './serve/app.js';
import { type AuditSink, openAuditSink } from './serve/audit.js';
import type { Serving } from './serve/pipeline.js';
import { createServing } from './serve/serving.js';
import type { RunnerStatus } from './serve/status.js';
import type { RunnerAttestation } from './serve/attestation.js';
import { type RuntimeEndpoint, spkiSha256 } from './startup/runtime-data.js';
import { Secrets } from './startup/secrets.js';
import { type ServedModel, type StartupOptions, runStartup } from './startup/sequence.js';
import { StepRecorder } from './startup/steps.js';

export interface LaunchOptions extends StartupOptions {
  /** Default: JSON lines on stderr at the configured level. */
  readonly logger?: Logger;
  readonly metrics?: RunnerMetrics;
}

/** A launched runner: listening at once, serving once `ready` resolves. */
export interface RunningRunner {
  /** Where it listens (the real port when 0 was asked for). */
  readonly url: string;
  /** Resolves when the model serves; rejects with the RunnerError (code and step) that stopped start-up. */
  readonly ready: Promise<void>;
  status(): RunnerStatus;
  /** Stops serving, closes the backend, zeroes key buffers and removes plaintext. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts a runner: the HTTP server first (so `/readyz` and `/status` answer during start-up), then the
 * start-up sequence in the background. A failed start-up wipes what it obtained and leaves the server
 * answering 503 with the reason until `stop()`; nothing is ever served from a runner whose checks failed.
 */
export async function launchRunner(config: RunnerConfig, options: LaunchOptions = {}): Promise<RunningRunner> {
  const logger = options.logger ?? createRunnerLogger(config.logLevel, process.stderr);
  const metrics = options.metrics ?? createRunnerMetrics();
  const audit = await openAudit(config, logger);
  const abort = new AbortController();
  const secrets = new Secrets();
  const steps = new StepRecorder(logger, metrics, abort.signal);
  let phase: RunnerStatus['state'] = 'starting';
  let serving: Serving | null = null;
  let failure: RunnerError | null = null;
  const configSha256 = configDigest(config);
  const status = (): RunnerStatus => ({
    state: phase,
    configSha256,
    steps: steps.steps,
    failure: failure ? { step: failure.step ?? null, ...failure.toJSON() } : null,
    model: serving?.model ?? null,
    simulated: (steps.steps.find((s) => s.name === 'evidence')?.detail?.simulated as boolean | undefined) ?? null,
  });
  let attestation: RunnerAttestation | null = null;
  let app: FastifyInstance;
  let url: string;
  let endpoint: RuntimeEndpoint;
  try {
    const tls = await tlsFiles(config);
    app = await buildRunnerApp({ limits: config.limits, apiKeys: config.apiKeys, metrics, logger, ...tls, status, attestation: () => attestation, serving: () => serving ?? { notServing: notServing(phase, failure) } });
    url = await listen(app, config);
    // A client checks that the endpoint it reached is the attested one: the TLS key when there is one.
    endpoint = tls.https ? { 'tls-spki-sha256': spkiSha256(tls.https.cert) } : { listen: url };
  } catch (e) {
    await audit.close();
    secrets.release();
    throw e;
  }
  if (!config.tls && !isLoopbackHost(config.listen.host)) logger.warn({ url }, 'serving plain HTTP beyond loopback: prompts, answers and API keys cross the network in clear; configure tls');
  const serve = (backend: InferenceBackend, model: ServedModel): void => {
    serving = createServing(config, backend, model, audit, metrics);
    phase = 'serving';
    metrics.ready.set(1);
    logger.info({ url, model: model.id, rootDigest: model.rootDigest }, 'serving');
  };
  const attested = (a: RunnerAttestation): void => {
    attestation = a;
  };
  const ready = runStartup({ config, steps, secrets, logger, signal: abort.signal, options, serve, endpoint, attested }).catch(async (e: unknown) => {
    failure = e instanceof RunnerError ? e : new RunnerError('ERR_RUNNER_INTERNAL', String(e), { cause: e });
    if (phase === 'starting') phase = 'failed';
    await secrets.wipe();
    throw failure;
  });
  // The caller may never look at `ready` (it polls /readyz instead): that is not an unhandled rejection.
  ready.catch(() => undefined);
  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      phase = 'stopping';
      metrics.ready.set(0);
      abort.abort();
      await ready.catch(() => undefined);
      await app.close();
      await serving?.backend.close();
      await audit.close();
      await secrets.wipe();
      secrets.release();
      phase = 'stopped';
      logger.info('runner stopped: key buffers zeroed, plaintext removed');
    })();
    return stopping;
  };
  return { url, ready, status, stop };
}

function notServing(phase: RunnerStatus['state'], failure: RunnerError | null): string {
  if (failure) return `the runner does not serve: start-up failed at step ${failure.step ?? '?'} (${failure.code}); see GET /status`;
  return phase === 'starting' ? 'the runner is starting: the model is not verified and loaded yet; retry when GET /readyz answers 200' : `the runner is ${phase}`;
}

async function openAudit(config: RunnerConfig, logger: Logger): Promise<AuditSink> {
  try {
    return await openAuditSink(config.guardians.auditFile, logger);
  } catch (cause) {
    throw new RunnerError('ERR_RUNNER_CONFIG', `guardians.auditFile "${config.guardians.auditFile}" cannot be opened: ${(cause as NodeJS.ErrnoException).code ?? 'error'}`, { cause });
  }
}

async function tlsFiles(config: RunnerConfig): Promise<{ https?: { cert: Buffer; key: Buffer } }> {
  if (!config.tls) return {};
  try {
    return { https: { cert: await readFile(config.tls.certFile), key: await readFile(config.tls.keyFile) } };
  } catch (cause) {
    throw new RunnerError('ERR_RUNNER_CONFIG', `the TLS certificate or key cannot be read: ${(cause as NodeJS.ErrnoException).code ?? 'error'}`, { cause });
  }
}

async function listen(app: FastifyInstance, config: RunnerConfig): Promise<string> {
  try {
    await app.listen({ host: config.listen.host, port: config.listen.port });
  } catch (cause) {
    await app.close();
    throw new RunnerError('ERR_RUNNER_LISTEN', `cannot listen on ${config.listen.host}:${config.listen.port}: ${(cause as NodeJS.ErrnoException).code ?? 'error'}`, { cause });
  }
  const { port } = app.server.address() as AddressInfo;
  const host = config.listen.host;
  return `${config.tls ? 'https' : 'http'}://${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
}
