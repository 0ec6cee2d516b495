import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { dirname, resolve } from 'node:path';
import { KEY_RELEASE_DEFAULTS, type KeyReleaseConfig, resolveKeyReleaseConfig } from './config-keys.js';
import { bad, bool, integer, objectSetting, oneOf, onlyKeys, optionalPath, text } from './config-values.js';
import { KrsStartupError } from './errors.js';

/** api-versions accepted on POST /attest/SevSnpVm (azure-protocols.md §1.1). */
export const API_VERSIONS = ['2020-10-01', '2022-08-01', '2025-06-01'] as const;

/** The validated settings of one KRS instance. Every field has a default except where noted. */
export interface KrsConfig extends KeyReleaseConfig {
  /** Default 127.0.0.1:8443; port 0 picks a free port. */
  readonly listen: { readonly host: string; readonly port: number };
  /** Token `iss` and base of `jku`/`jwks_uri`, no trailing slash. Null: derived from the listen URL. */
  readonly issuer: string | null;
  /** Signing keys, the nonce key, the keystore and audit log, the release signer live here. Default ./.zt4ai/krs. */
  readonly dataDir: string;
  /** Without TLS the service refuses to listen on anything but loopback. */
  readonly tls: { readonly certFile: string; readonly keyFile: string } | null;
  /** Also trust the simulator's roots. Tokens then say `x-zt4ai-simulated: true`. Never in production. */
  readonly trustSimulator: boolean;
  /** PEM bundle of simulated ARK/ASK/ASVK to trust (with trustSimulator) or to diagnose (without). */
  readonly simulatorRootsFile: string | null;
  /** Default 300 s. MAA uses 8 h; a key-release token needs minutes at most. */
  readonly tokenLifetimeSeconds: number;
  /** Default 120 s. */
  readonly challengeLifetimeSeconds: number;
  /** Refuse runtime data without a challenge nonce (ERR_NONCE_REQUIRED). Default false. */
  readonly requireFreshness: boolean;
  /** Remember used nonces in memory until they expire (one replica only). Default true. */
  readonly replayProtection: boolean;
  /** RSA size of new token-signing keys. Default 3072. */
  readonly signingKeyBits: 2048 | 3072 | 4096;
  /** How long a rotated-out key stays in /certs. Default 2 × tokenLifetimeSeconds. */
  readonly signingKeyOverlapSeconds: number;
  /** Base64 of at least 32 bytes, shared by replicas behind one issuer. Null: <dataDir>/nonce.key. */
  readonly nonceKey: string | null;
  /** Default 64 KiB; a real MAA request is about 15 KiB. */
  readonly bodyLimitBytes: number;
  /** Per client IP on the attest and challenge routes. Null turns rate limiting off. */
  readonly rateLimit: { readonly max: number; readonly timeWindowSeconds: number } | null;
  /** Fetch a missing VCEK from AMD KDS. Default off: the evidence must carry its VCEK. */
  readonly kds: { readonly enabled: boolean; readonly baseUrl: string; readonly cacheDir: string | null };
  /**
   * POST /attest/AzureCvm. `complianceStatus` is the `x-ms-isolation-tee.x-ms-compliance-status` of its tokens:
   * "zt4ai-verified-cvm" (default: the SNP report verified to a trusted root at VMPL 0 and binds the runtime
   * claims, the quote verified) or "azure-compliant-cvm", MAA's value, which an operator sets deliberately so
   * that Microsoft's confidential-VM release policies work unchanged; zt4ai does not make MAA's unpublished checks.
   * It applies to POST /attest/AzureGuest too. `akCertAnchorsFile`: PEM certificates that may issue a vTPM's AK
   * certificate (Microsoft's vTPM CAs) for AzureGuest evidence; null: the AK certificate must certify the AK,
   * but its issuer is not judged (the AK is trusted through the SNP report, which binds it).
   */
  readonly azureCvm: { readonly complianceStatus: CvmComplianceStatus; readonly akCertAnchorsFile: string | null };
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
}

/** The JSON config file and CLI flags: the same settings, all optional; paths relative to `baseDir`. */
export type KrsConfigInput = { readonly [K in keyof KrsConfig]?: unknown };

/** The values `azureCvm.complianceStatus` may take. */
export const CVM_COMPLIANCE_STATUSES = ['zt4ai-verified-cvm', 'azure-compliant-cvm'] as const;
export type CvmComplianceStatus = (typeof CVM_COMPLIANCE_STATUSES)[number];

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const KEY_BITS = [2048, 3072, 4096] as const;


/** Validates and completes a configuration. Throws KrsStartupError(ERR_CONFIG) naming the bad setting. */
export function resolveKrsConfig(input: KrsConfigInput, baseDir: string = process.cwd()): KrsConfig {
  const known = new Set<string>(Object.keys(DEFAULTS));
  for (const key of Object.keys(input)) if (!known.has(key)) throw bad(`unknown setting "${key}"`);
  const tokenLifetimeSeconds = integer(input.tokenLifetimeSeconds, 'tokenLifetimeSeconds', 1, 86_400) ?? DEFAULTS.tokenLifetimeSeconds;
  const tls = tlsSetting(input.tls, baseDir);
  const config: KrsConfig = {
    listen: parseListen(input.listen ?? DEFAULTS.listen),
    issuer: input.issuer === undefined || input.issuer === null ? null : normalizeIssuer(input.issuer),
    dataDir: resolve(baseDir, text(input.dataDir, 'dataDir') ?? DEFAULTS.dataDir),
    tls,
    trustSimulator: bool(input.trustSimulator, 'trustSimulator') ?? false,
    simulatorRootsFile: optionalPath(input.simulatorRootsFile, 'simulatorRootsFile', baseDir),
    tokenLifetimeSeconds,
    challengeLifetimeSeconds: integer(input.challengeLifetimeSeconds, 'challengeLifetimeSeconds', 1, 86_400) ?? DEFAULTS.challengeLifetimeSeconds,
    requireFreshness: bool(input.requireFreshness, 'requireFreshness') ?? false,
    replayProtection: bool(input.replayProtection, 'replayProtection') ?? true,
    signingKeyBits: oneOf(input.signingKeyBits, 'signingKeyBits', KEY_BITS) ?? 3072,
    signingKeyOverlapSeconds: integer(input.signingKeyOverlapSeconds, 'signingKeyOverlapSeconds', 0, 365 * 86_400) ?? 2 * tokenLifetimeSeconds,
    nonceKey: nonceKeySetting(input.nonceKey),
    bodyLimitBytes: integer(input.bodyLimitBytes, 'bodyLimitBytes', 1024, 16 * 1024 * 1024) ?? DEFAULTS.bodyLimitBytes,
    rateLimit: rateLimitSetting(input.rateLimit),
    kds: kdsSetting(input.kds, baseDir),
    azureCvm: azureCvmSetting(input.azureCvm, baseDir),
    logLevel: oneOf(input.logLevel, 'logLevel', LOG_LEVELS) ?? 'info',
    ...resolveKeyReleaseConfig(input, baseDir),
  };
  if (!config.tls && !isLoopback(config.listen.host)) {
    throw bad(`refusing to serve plain HTTP on ${config.listen.host}: tokens and nonces would cross the network in clear. Listen on 127.0.0.1 (or ::1), or give a TLS certificate and key`);
  }
  return config;
}

const DEFAULTS = {
  listen: '127.0.0.1:8443',
  issuer: null,
  dataDir: '.zt4ai/krs',
  tls: null,
  trustSimulator: false,
  simulatorRootsFile: null,
  tokenLifetimeSeconds: 300,
  challengeLifetimeSeconds: 120,
  requireFreshness: false,
  replayProtection: true,
  signingKeyBits: 3072,
  signingKeyOverlapSeconds: null,
  nonceKey: null,
  bodyLimitBytes: 64 * 1024,
  rateLimit: null,
  kds: null,
  azureCvm: null,
  logLevel: 'info',
  ...KEY_RELEASE_DEFAULTS,
} as const satisfies Record<keyof KrsConfig, unknown>;

/** Reads a JSON config file; relative paths inside it are relative to the file. */
export async function loadKrsConfigFile(path: string): Promise<{ input: KrsConfigInput; baseDir: string }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new KrsStartupError('ERR_CONFIG', `cannot read config file "${path}": ${(cause as NodeJS.ErrnoException).code ?? 'error'}`, { cause });
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (cause) {
    throw new KrsStartupError('ERR_CONFIG', `config file "${path}" is not valid JSON`, { cause });
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw bad(`config file "${path}" must hold a JSON object`);
  return { input: doc as KrsConfigInput, baseDir: dirname(resolve(path)) };
}

/** "host:port", "[::1]:port"; port 0..65535. */
export function parseListen(value: unknown): { host: string; port: number } {
  if (typeof value !== 'string') throw bad('listen must be a "host:port" string');
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value.trim());
  const port = m ? Number(m[3]) : Number.NaN;
  if (!m || port > 65_535) throw bad(`listen "${value}" is not host:port (IPv6 as [::1]:port; port 0 picks a free one)`);
  return { host: (m[1] ?? m[2])!, port };
}

/** Loopback only: 127.0.0.0/8, ::1 and the name localhost. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

/** The URL clients use to reach a listener; IPv6 hosts are bracketed. */
export function listenUrl(host: string, port: number, tls: boolean): string {
  return `${tls ? 'https' : 'http'}://${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
}

function normalizeIssuer(value: unknown): string {
  if (typeof value !== 'string') throw bad('issuer must be a URL string');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw bad(`issuer "${value}" is not an absolute URL`);
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.search || url.hash || url.username || url.password) {
    throw bad(`issuer "${value}" must be an http(s) URL without query, fragment or credentials`);
  }
  return url.href.replace(/\/+$/, '');
}

function tlsSetting(value: unknown, baseDir: string): KrsConfig['tls'] {
  if (value === undefined || value === null) return null;
  const v = value as Record<string, unknown>;
  const certFile = optionalPath(v.certFile, 'tls.certFile', baseDir);
  const keyFile = optionalPath(v.keyFile, 'tls.keyFile', baseDir);
  if (!certFile || !keyFile) throw bad('tls needs both certFile and keyFile');
  return { certFile, keyFile };
}

function rateLimitSetting(value: unknown): KrsConfig['rateLimit'] {
  if (value === false || value === null) return null;
  if (value === undefined) return { max: 60, timeWindowSeconds: 60 };
  const v = value as Record<string, unknown>;
  return {
    max: integer(v.max, 'rateLimit.max', 1, 1_000_000) ?? 60,
    timeWindowSeconds: integer(v.timeWindowSeconds, 'rateLimit.timeWindowSeconds', 1, 86_400) ?? 60,
  };
}

function kdsSetting(value: unknown, baseDir: string): KrsConfig['kds'] {
  const v = (value ?? {}) as Record<string, unknown>;
  return {
    enabled: bool(v.enabled, 'kds.enabled') ?? false,
    baseUrl: text(v.baseUrl, 'kds.baseUrl') ?? 'https://kdsintf.amd.com',
    cacheDir: optionalPath(v.cacheDir, 'kds.cacheDir', baseDir),
  };
}

function azureCvmSetting(value: unknown, baseDir: string): KrsConfig['azureCvm'] {
  const v = objectSetting(value, 'azureCvm') ?? {};
  onlyKeys(v, 'azureCvm', ['complianceStatus', 'akCertAnchorsFile']);
  return {
    complianceStatus: oneOf(v.complianceStatus, 'azureCvm.complianceStatus', CVM_COMPLIANCE_STATUSES) ?? 'zt4ai-verified-cvm',
    akCertAnchorsFile: optionalPath(v.akCertAnchorsFile, 'azureCvm.akCertAnchorsFile', baseDir),
  };
}

function nonceKeySetting(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(value) || Buffer.from(value, 'base64').length < 32) {
    throw bad('nonceKey must be base64 of at least 32 random bytes (e.g. `openssl rand -base64 32`)');
  }
  return value;
}
