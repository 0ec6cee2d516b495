import { type Dispatcher, request } from 'undici';
import { KdsClient } from '../../attestation/kds/client.js';
import { KDS_BASE_URL } from '../../attestation/kds/urls.js';
import { decodeAmdExtensions } from '../../attestation/snp/amd-extensions.js';
import { type ParsedCertificate, loadCertificates, loadPemBundle, parseCertificate } from '../../attestation/snp/certificate.js';
import { type Product, productFromCommonName } from '../../attestation/snp/product.js';
import { type SnpReport, parseReport } from '../../attestation/snp/report.js';
import { decodeTcb, formatTcb } from '../../attestation/snp/tcb.js';
import { RunnerError } from '../errors.js';
import type { SnpEvidence } from './source.js';

/** Azure's instance metadata service, where THIM serves the VM's VCEK chain (link-local, inside the VM only). */
export const THIM_BASE_URL = 'http://169.254.169.254';
export const THIM_PATH = '/metadata/THIM/amd/certification';
/** THIM's answer is a few KiB of PEM in JSON; anything much larger is not it. */
const MAX_THIM_BODY = 64 * 1024;

export interface VcekChainOptions {
  /** IMDS base URL (default http://169.254.169.254). */
  readonly thimUrl?: string;
  /** AMD KDS base URL for the fallback (default https://kdsintf.amd.com). */
  readonly kdsUrl?: string;
  /** Per request. Default 10 s. */
  readonly timeoutMs?: number;
  readonly dispatcher?: Dispatcher;
}

export interface VcekChain {
  readonly certificates: SnpEvidence['certificates'];
  /** Where the chain came from. */
  readonly source: 'thim' | 'kds';
  /** Why THIM was not used, when KDS was. */
  readonly thimProblem?: string;
}

/**
 * The VCEK chain for an SNP report read from an Azure HCL report: first Azure's THIM endpoint
 * (`GET <imds>/metadata/THIM/amd/certification`, header `Metadata: true`, JSON `{vcekCert, certificateChain,
 * tcbm}`), whose VCEK must be the one for the report's chip and REPORTED_TCB (after a host TCB update THIM may
 * serve a newer one); otherwise AMD KDS for that chip and TCB (a v2 report names no product: Milan, then
 * Genoa, are asked). Nothing fetched is trusted here: the attestation service verifies the chain to AMD's
 * roots. When neither source gives a chain the error names both failures.
 */
export async function fetchVcekChain(reportBytes: Buffer, options: VcekChainOptions = {}): Promise<VcekChain> {
  const report = parseReport(reportBytes);
  let thimProblem: string;
  try {
    const certs = await fetchThim(options);
    const chain = roles(certs);
    const mismatch = vcekMismatch(chain.vcek, report);
    if (mismatch === null) return { certificates: chain.certificates, source: 'thim' };
    thimProblem = mismatch;
  } catch (e) {
    thimProblem = e instanceof ThimError ? e.message : `THIM failed: ${(e as Error).message}`;
  }
  try {
    return { certificates: await fetchKds(report, options), source: 'kds', thimProblem };
  } catch (e) {
    const kdsProblem = (e as { code?: string }).code ? `${(e as { code: string }).code}: ${(e as Error).message}` : (e as Error).message;
    throw new RunnerError('ERR_RUNNER_VCEK_UNAVAILABLE', `no VCEK chain for the HCL report's SNP report: ${thimProblem}; and AMD KDS: ${kdsProblem.slice(0, 400)}`, { cause: e });
  }
}

class ThimError extends Error {}

async function fetchThim(options: VcekChainOptions): Promise<ParsedCertificate[]> {
  const base = (options.thimUrl ?? THIM_BASE_URL).replace(/\/+$/, '');
  const url = `${base}${THIM_PATH}`;
  const timeout = options.timeoutMs ?? 10_000;
  let status: number;
  let body: Buffer;
  try {
    const res = await request(url, { method: 'GET', headers: { metadata: 'true', accept: 'application/json' }, headersTimeout: timeout, bodyTimeout: timeout, ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}) });
    status = res.statusCode;
    body = await readCapped(res.body, MAX_THIM_BODY);
  } catch (cause) {
    throw new ThimError(`THIM at ${url} cannot be reached (${(cause as { code?: string }).code ?? (cause as Error).name})`);
  }
  if (status !== 200) throw new ThimError(`THIM at ${url} answered HTTP ${status}`);
  try {
    return loadCertificates(body);
  } catch (e) {
    throw new ThimError(`THIM at ${url} answered something that is not THIM's certificate JSON (${(e as Error).message.slice(0, 200)})`);
  }
}

async function readCapped(body: AsyncIterable<Buffer | Uint8Array>, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > max) throw Object.assign(new Error(`body over ${max} bytes`), { code: 'BODY_TOO_LARGE' });
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}

/** Certificates by role (by subject name, as attestation/snp decides them). */
function roles(certs: readonly ParsedCertificate[]): { vcek: ParsedCertificate; certificates: SnpEvidence['certificates'] } {
  const vcek = certs.find((c) => c.subjectCN === 'SEV-VCEK');
  if (!vcek) throw new ThimError('THIM answered without a VCEK');
  const ask = certs.find((c) => c.subjectCN !== null && /^SEV-(?:Milan|Genoa|Turin)$/.test(c.subjectCN));
  const ark = certs.find((c) => c.subjectCN !== null && /^ARK-(?:Milan|Genoa|Turin)$/.test(c.subjectCN));
  return { vcek, certificates: { vcek: vcek.der, ...(ask ? { ask: ask.der } : {}), ...(ark ? { ark: ark.der } : {}) } };
}

/** Null when the VCEK names the report's chip and REPORTED_TCB; else why not. */
function vcekMismatch(vcek: ParsedCertificate, report: SnpReport): string | null {
  const product = productFromCommonName(vcek.issuerCN ?? '') ?? report.cpuidProduct;
  if (!product) return `THIM's VCEK names no product (issuer "${vcek.issuerCN ?? ''}")`;
  let ext: ReturnType<typeof decodeAmdExtensions>;
  try {
    ext = decodeAmdExtensions(vcek.extensions);
  } catch (e) {
    return `THIM's VCEK has malformed AMD extensions (${(e as Error).message.slice(0, 200)})`;
  }
  const chip = product === 'Turin' ? report.chipId.subarray(0, 8) : report.chipId;
  if (!ext.hwID?.equals(chip)) return "THIM's VCEK is for another chip than the report's CHIP_ID";
  const tcb = decodeTcb(report.reportedTcbRaw, product);
  const certTcb = { bootloader: ext.blSPL, tee: ext.teeSPL, snp: ext.snpSPL, microcode: ext.ucodeSPL, ...(product === 'Turin' ? { fmc: ext.fmcSPL } : {}) };
  const same = Object.entries(certTcb).every(([k, v]) => v === tcb[k as keyof typeof tcb]);
  return same ? null : `THIM's VCEK is for another TCB than the report's REPORTED_TCB ${formatTcb(tcb)} (the host's TCB changed?)`;
}

async function fetchKds(report: SnpReport, options: VcekChainOptions): Promise<SnpEvidence['certificates']> {
  if (report.keyInfoBits.signingKey === 'VLEK') throw new Error('the report is VLEK-signed, and AMD KDS serves VLEKs only to cloud providers');
  const kds = new KdsClient({ baseUrl: options.kdsUrl ?? KDS_BASE_URL, maxRetries: 1, initialBackoffMs: 1000, maxBackoffMs: 5000, timeoutMs: options.timeoutMs ?? 10_000, ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}) });
  // v1/v2 reports carry no CPUID; Azure's Milan hosts write v2. Turin reports are v3+ and name themselves.
  const products: Product[] = report.cpuidProduct ? [report.cpuidProduct] : ['Milan', 'Genoa'];
  let last: unknown = null;
  for (const product of products) {
    try {
      const vcek = parseCertificate(await kds.vcek(product, report.chipId, decodeTcb(report.reportedTcbRaw, product)));
      const chain = loadPemBundle(await kds.certChain(product, 'VCEK'));
      const ask = chain.find((c) => c.subjectCN === `SEV-${product}`);
      const ark = chain.find((c) => c.subjectCN === `ARK-${product}`);
      return { vcek: vcek.der, ...(ask ? { ask: ask.der } : {}), ...(ark ? { ark: ark.der } : {}) };
    } catch (e) {
      last = e;
    }
  }
  throw last;
}
