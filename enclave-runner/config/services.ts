import type { AttestationConfig, CredentialConfig, EvidenceConfig, KeySourceConfig, ReleaseSignerTrust } from './types.js';
import { type Obj, bad, isLoopbackHost, object, oneOf, onlyKeys, path, serviceUrl, stringList, text } from './values.js';

/** The evidence, attestation and key-source sections of the config file. */

const DEFAULT_TSM = '/sys/kernel/config/tsm';
const EVIDENCE_KINDS = ['auto', 'configfs-tsm', 'simulated', 'azure-vtpm'] as const;

/**
 * `"auto"`, a kind name, or `{kind, path}`; `simulated` needs the path of the simulator's tree;
 * `{kind: "azure-vtpm", tcti?, thimUrl?, kdsUrl?, tcgLog?}` names the vTPM's TCTI, where the VCEK chain comes from,
 * and the TCG event log AzureGuest sends.
 */
export function evidenceSection(value: unknown, baseDir: string): EvidenceConfig {
  const v: Obj = typeof value === 'string' ? { kind: value } : (object(value, 'evidence') ?? { kind: 'auto' });
  onlyKeys(v, 'evidence', ['kind', 'path', ...AZURE_VTPM_KEYS]);
  const kind = oneOf(v.kind, 'evidence.kind', EVIDENCE_KINDS) ?? 'auto';
  const p = path(v.path, 'evidence.path', baseDir);
  if (kind !== 'azure-vtpm') {
    const azureOnly = AZURE_VTPM_KEYS.find((k) => v[k] !== undefined && v[k] !== null);
    if (azureOnly) throw bad(`evidence.${azureOnly} applies to azure-vtpm, not ${kind}`);
  }
  if (kind === 'simulated') {
    if (p === null) throw bad('evidence "simulated" needs evidence.path: the simulator\'s configfs-tsm tree (the directory holding report/)');
    return { kind, path: p };
  }
  if (kind === 'configfs-tsm') return { kind, path: p ?? DEFAULT_TSM };
  if (p !== null) throw bad(`evidence.path applies to configfs-tsm and simulated, not ${kind}`);
  if (kind === 'azure-vtpm') {
    const kdsUrl = v.kdsUrl === undefined || v.kdsUrl === null ? null : baseUrl(serviceUrl(v.kdsUrl, 'evidence.kdsUrl'));
    return { kind, tcti: tcti(v.tcti), thimUrl: imdsUrl(v.thimUrl), kdsUrl, tcgLog: path(v.tcgLog, 'evidence.tcgLog', baseDir) };
  }
  return { kind };
}

const AZURE_VTPM_KEYS = ['tcti', 'thimUrl', 'kdsUrl', 'tcgLog'] as const;

/** A tpm2-tss TCTI string, `<name>[:<config>]` (`device:/dev/tpmrm0`, `swtpm:host=127.0.0.1,port=2321`, `tabrmd`). */
function tcti(value: unknown): string | null {
  const t = text(value, 'evidence.tcti');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refuses control characters in the TCTI string
  if (t !== null && (t.length > 512 || !/^[A-Za-z0-9_.-]+(?::[^\u0000-\u001f\u007f]*)?$/.test(t))) {
    throw bad('evidence.tcti must be a TCTI string "<name>[:<config>]", e.g. "device:/dev/tpmrm0" or "swtpm:host=127.0.0.1,port=2321"');
  }
  return t;
}

/** IMDS base URL: IMDS is plain http on the link-local 169.254.169.254 (inside the VM only), or a loopback stand-in. */
function imdsUrl(value: unknown): string | null {
  const t = text(value, 'evidence.thimUrl');
  if (t === null) return null;
  let url: URL;
  try {
    url = new URL(t);
  } catch {
    throw bad(`evidence.thimUrl "${t}" is not an absolute URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw bad('evidence.thimUrl must be an http(s) URL');
  if (url.username || url.password || url.search || url.hash) throw bad('evidence.thimUrl must not carry credentials, a query or a fragment');
  if (url.protocol === 'http:' && url.hostname !== '169.254.169.254' && !isLoopbackHost(url.hostname)) throw bad('evidence.thimUrl: plain http only to the instance metadata service (169.254.169.254) or loopback; use https');
  return baseUrl(url);
}

function baseUrl(url: URL): string {
  return url.href.replace(/\/+$/, '');
}

/** `attestation`: the KRS (or MAA) base URL and the CA of its TLS certificate. */
export function attestationSection(value: unknown, baseDir: string): AttestationConfig {
  const v = object(value, 'attestation');
  if (!v) throw bad('attestation is required: {"kind": "zt4ai-krs", "url": "<KRS URL>"}');
  onlyKeys(v, 'attestation', ['kind', 'url', 'tlsCaFile']);
  const url = serviceUrl(v.url, 'attestation.url');
  return { kind: oneOf(v.kind, 'attestation.kind', ['zt4ai-krs', 'azure-maa'] as const) ?? 'zt4ai-krs', url: url.href.replace(/\/+$/, ''), tlsCaFile: path(v.tlsCaFile, 'attestation.tlsCaFile', baseDir) };
}

const KEY_KEYS = ['kind', 'url', 'tlsCaFile', 'tokenFile', 'managedIdentityClientId', 'releaseSigner', 'enc'];
const ENCS = ['CKM_RSA_AES_KEY_WRAP', 'RSA_AES_KEY_WRAP_256', 'RSA_AES_KEY_WRAP_384'] as const;

/** `url` is a Key Vault key identifier: `<vault>/keys/<name>[/<version>]`. */
export function keySourceSection(value: unknown, baseDir: string): KeySourceConfig {
  const v = object(value, 'keySource');
  if (!v) throw bad('keySource is required: {"kind": "zt4ai-krs", "url": "<KRS URL>/keys/<name>", "tokenFile": "..."}');
  onlyKeys(v, 'keySource', KEY_KEYS);
  const kind = oneOf(v.kind, 'keySource.kind', ['zt4ai-krs', 'azure-key-vault'] as const) ?? 'zt4ai-krs';
  const url = serviceUrl(v.url, 'keySource.url');
  const m = /^(.*?)\/keys\/([0-9A-Za-z-]{1,127})(?:\/([0-9A-Za-z]{1,64}))?\/?$/.exec(url.pathname);
  if (!m) throw bad(`keySource.url must be a key identifier <vault>/keys/<name>[/<version>], not ${url.href}`);
  const tokenFile = path(v.tokenFile, 'keySource.tokenFile', baseDir);
  const clientId = text(v.managedIdentityClientId, 'keySource.managedIdentityClientId');
  const credential: CredentialConfig = tokenFile ? { tokenFile } : { azure: { managedIdentityClientId: clientId } };
  return {
    kind,
    vaultUrl: `${url.origin}${m[1]}`,
    keyName: m[2]!,
    keyVersion: m[3] ?? null,
    tlsCaFile: path(v.tlsCaFile, 'keySource.tlsCaFile', baseDir),
    credential,
    releaseSigner: releaseSignerSection(v.releaseSigner, kind, baseDir),
    enc: oneOf(v.enc, 'keySource.enc', ENCS) ?? 'RSA_AES_KEY_WRAP_256',
  };
}

/** A KRS's CA may be fetched from it (over the same verified channel); Azure's signer must be configured. */
function releaseSignerSection(value: unknown, kind: KeySourceConfig['kind'], baseDir: string): ReleaseSignerTrust {
  const v = object(value, 'keySource.releaseSigner');
  if (!v) {
    if (kind === 'zt4ai-krs') return { fetch: true };
    throw bad('keySource.releaseSigner is required for azure-key-vault: {"caFile": "<root CA PEM>"} or {"pinnedSha256": ["<certificate SHA-256>"]}');
  }
  onlyKeys(v, 'keySource.releaseSigner', ['caFile', 'pinnedSha256', 'fetch']);
  const set = Object.keys(v).filter((k) => v[k] !== undefined && v[k] !== null && v[k] !== false);
  if (set.length !== 1) throw bad('keySource.releaseSigner needs exactly one of caFile, pinnedSha256 and fetch');
  if (v.caFile !== undefined) return { caFile: path(v.caFile, 'keySource.releaseSigner.caFile', baseDir)! };
  if (v.pinnedSha256 !== undefined) {
    const pins = stringList(v.pinnedSha256, 'keySource.releaseSigner.pinnedSha256') ?? [];
    if (pins.length === 0 || !pins.every((p) => /^[0-9a-f]{64}$/i.test(p.replace(/:/g, '')))) throw bad('keySource.releaseSigner.pinnedSha256 must list SHA-256 certificate fingerprints (64 hex digits)');
    return { pinnedSha256: pins };
  }
  if (v.fetch !== true) throw bad('keySource.releaseSigner.fetch must be true');
  if (kind !== 'zt4ai-krs') throw bad('keySource.releaseSigner.fetch works with a zt4ai KRS only');
  return { fetch: true };
}
