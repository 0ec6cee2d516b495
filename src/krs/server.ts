import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.js';
import { type KrsCompositionExtras, composeKrs } from './compose.js';
import { type KrsConfig, listenUrl } from './config.js';
import { KrsStartupError } from './errors.js';
import { createLogger } from './logging.js';

/** A listening KRS. */
export interface KrsServer {
  /** Where it listens, e.g. http://127.0.0.1:41234 (the real port when 0 was asked for). */
  readonly url: string;
  /** The token issuer: the configured one, else `url`. */
  readonly issuer: string;
  readonly app: FastifyInstance;
  /** Stops accepting connections, lets in-flight requests finish, closes the app. */
  close(): Promise<void>;
}

const WILDCARDS = new Set(['0.0.0.0', '::', '[::]']);

/** Composes, builds and starts a KRS. Start-up problems throw KrsStartupError (the CLI exits 2). */
export async function startKrsServer(config: KrsConfig, extras: KrsCompositionExtras = {}): Promise<KrsServer> {
  if (!config.issuer && WILDCARDS.has(config.listen.host)) {
    throw new KrsStartupError('ERR_CONFIG', `listening on ${config.listen.host} gives no address clients can use as the token issuer: set issuer (--issuer https://krs.example.com)`);
  }
  const logger = extras.logger ?? createLogger({ level: config.logLevel });
  const deps = await composeKrs(config, { ...extras, logger });
  if (config.trustSimulator) {
    logger.warn({ trustSimulator: true }, 'TRUSTING SIMULATED AMD ROOTS: tokens from this service prove nothing about real hardware (x-zt4ai-simulated: true). Never do this in production.');
  }
  let issuer = config.issuer ?? '';
  const app = await buildApp({ ...deps, issuer: () => issuer });
  try {
    await app.listen({ host: config.listen.host, port: config.listen.port });
  } catch (cause) {
    await app.close();
    throw new KrsStartupError('ERR_CONFIG', `cannot listen on ${config.listen.host}:${config.listen.port}: ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}`, { cause });
  }
  const port = (app.server.address() as AddressInfo).port;
  const url = listenUrl(config.listen.host, port, Boolean(deps.https));
  issuer ||= url;
  logger.info({ url, issuer, tls: Boolean(deps.https) }, 'krs listening');
  return { url, issuer, app, close: () => app.close() };
}
