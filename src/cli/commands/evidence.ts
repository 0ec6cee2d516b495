import type { X509Certificate } from 'node:crypto';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { type AzureGuestRequest, parseAttestationInfo } from '../../../attestation/azure/guest-request.js';
import { looksLikeHclReport, parseHclReport } from '../../../attestation/azure/hcl.js';
import { type PcrValues, parsePcrValues } from '../../../attestation/azure/tpm-pcrs.js';
import { verifyAzureGuest } from '../../../attestation/azure/verify-guest.js';
import { type QuoteEvidence, verifyHclEvidence } from '../../../attestation/azure/verify-hcl.js';
import { AttestationError } from '../../../attestation/errors.js';
import { KdsClient } from '../../../attestation/kds/client.js';
import { type ParsedCertificate, loadCertificates, loadPemBundle } from '../../../attestation/snp/certificate.js';
import { completeEndorsements } from '../../../attestation/snp/endorsements.js';
import { type VerifyOptions, verifySnpReport } from '../../../attestation/snp/verify.js';
import { buildTrust, parseNow, parseProductFlag, readInput } from '../inputs.js';
import { type CliIo, type CommandResult, EXIT, UsageError } from '../io.js';
import { failedHclVerdict, printGuestVerdict, printHclVerdict, printVerdict } from './evidence-output.js';

interface VerifyFlags {
  report: string;
  certs?: string[];
  now?: string;
  offline?: boolean;
  product?: string;
  crl?: string[];
  checkRevocation?: boolean;
  simRoots?: string;
  kdsUrl?: string;
  cacheDir?: string;
  allowMaskedChipId?: boolean;
  quote?: string;
  pcrs?: string;
  nonce?: string;
  akCertAnchors?: string;
  json?: boolean;
}

const KDS_IO_CODES = new Set(['ERR_KDS_OFFLINE', 'ERR_KDS_FETCH', 'ERR_KDS_RATE_LIMITED']);

export function registerEvidenceCommands(program: Command, io: CliIo, result: CommandResult): void {
  const evidence = program.command('evidence').description('verify SEV-SNP attestation evidence against the pinned AMD roots');
  evidence
    .command('verify')
    .description('verify an SNP attestation report (or an Azure HCL report): signature, AMD certificate chain, TCB and chip binding')
    .requiredOption('--report <file>', 'the 1184-byte attestation report, an Azure CVM HCL report (vTPM NV 0x01400001, "HCLA" header), or an AzureGuest request (AttestationInfo JSON, its base64url, or {"AttestationInfo": ...})')
    .option('--certs <file...>', 'VCEK/VLEK and optional ASK/ARK: PEM, DER, PEM bundle or Azure THIM JSON (repeatable)')
    .option('--now <iso-time>', 'verification time for certificate validity (default: now)')
    .option('--offline', 'never touch the network; fail with ERR_KDS_OFFLINE if a certificate would be fetched')
    .option('--product <name>', 'Milan, Genoa or Turin, for v1/v2 reports without CPUID when no certificate names it')
    .option('--crl <file...>', 'AMD CRL(s) in DER to check revocation against')
    .option('--check-revocation', "fetch the product's CRL from AMD KDS (or use --crl) and fail if it cannot be checked")
    .option('--sim-roots <file>', "trust the simulator's roots from this PEM bundle too (claims are marked simulated)")
    .option('--kds-url <url>', 'AMD KDS base URL', 'https://kdsintf.amd.com')
    .option('--cache-dir <dir>', 'where fetched certificates are cached (default: $XDG_CACHE_HOME/zt4ai/kds)')
    .option('--allow-masked-chip-id', 'accept a VCEK-signed report whose CHIP_ID is masked (skips the chip binding)')
    .option('--quote <file>', 'HCL only: a TPM quote signed by HCLAkPub, JSON {"message": TPMS_ATTEST hex, "signature": TPMT_SIGNATURE or RSASSA hex}')
    .option('--pcrs <file>', 'HCL only: PCR values the quote covers, JSON {"<index>": "<hex>"} (or the quote file\'s "pcrs")')
    .option('--nonce <hex>', 'HCL only: the nonce the quote must carry in extraData (required with --quote)')
    .option('--ak-cert-anchors <file>', "AzureGuest only: PEM of the vTPM CAs that may issue the AK certificate (without it, the AK certificate's issuer is not judged)")
    .option('--json', 'print one JSON object: ok, product, signer, claims, warnings, errors (HCL: also x-ms-runtime, runtimeClaimsBound; AzureGuest: format "azure-guest")')
    .action(async (flags: VerifyFlags) => {
      result.exitCode = await verifyCommand(flags, io);
    });
}

async function verifyCommand(flags: VerifyFlags, io: CliIo): Promise<0 | 1 | 2> {
  const now = parseNow(flags.now);
  const product = flags.product ? parseProductFlag(flags.product) : undefined;
  const report = await readInput(io, flags.report, 'report');
  const guest = guestRequest(report);
  if (guest) return verifyGuestCommand(guest, flags, io);
  if (flags.akCertAnchors) throw new UsageError('ERR_USAGE', '--ak-cert-anchors applies to AzureGuest requests only; --report is not one');
  const hcl = looksLikeHclReport(report);
  if (!hcl && (flags.quote || flags.pcrs || flags.nonce)) {
    throw new UsageError('ERR_USAGE', '--quote, --pcrs and --nonce apply to Azure HCL reports only; --report is not one (no "HCLA" header)');
  }
  const tpm = hcl ? await readQuoteEvidence(io, flags) : undefined;
  const trust = await buildTrust(io, flags.simRoots);
  const crls = await Promise.all((flags.crl ?? []).map((f) => readInput(io, f, 'CRL')));
  let certificates: ParsedCertificate[] = [];
  try {
    const snpReport = hcl ? parseHclReport(report).snpReport : report;
    for (const file of flags.certs ?? []) certificates.push(...loadCertificates(await readInput(io, file, 'certificate')));
    const done = await completeEndorsements(snpReport, certificates, kdsClient(flags, io), {
      ...(product ? { product } : {}),
      checkRevocation: Boolean(flags.checkRevocation) && crls.length === 0,
    });
    certificates = done.certificates;
    crls.push(...done.crls);
  } catch (e) {
    if (!(e instanceof AttestationError)) throw e;
    if (hcl) printHclVerdict(io, flags, failedHclVerdict(e));
    else printVerdict(io, flags, { ok: false, product: null, signer: null, simulated: false, claims: null, warnings: [], errors: [e], report: null });
    return KDS_IO_CODES.has(e.code) ? EXIT.usage : EXIT.negative;
  }
  const options: VerifyOptions = {
    certificates,
    trust,
    now,
    crls,
    requireRevocationCheck: Boolean(flags.checkRevocation),
    allowMaskedChipId: Boolean(flags.allowMaskedChipId),
    ...(product ? { product } : {}),
  };
  if (hcl) {
    const verdict = verifyHclEvidence(report, { ...options, ...(tpm ? { tpm } : {}) });
    printHclVerdict(io, flags, verdict);
    return verdict.ok ? EXIT.ok : EXIT.negative;
  }
  const verdict = verifySnpReport(report, options);
  printVerdict(io, flags, verdict);
  return verdict.ok ? EXIT.ok : EXIT.negative;
}

/** An AzureGuest request in any form it is saved in: the JSON, its base64url, or the request body; null otherwise. */
function guestRequest(bytes: Buffer): AzureGuestRequest | null {
  const text = bytes.toString('utf8').trim();
  let doc: unknown = text;
  if (text.startsWith('{')) {
    try {
      doc = JSON.parse(text);
    } catch {
      return null;
    }
    const body = doc as { AttestationInfo?: unknown; TpmInfo?: unknown };
    if (typeof body.AttestationInfo === 'string') doc = body.AttestationInfo;
    else if (typeof body.TpmInfo !== 'object') return null;
  } else if (!/^[A-Za-z0-9_-]{16,}={0,2}$/.test(text) || !Buffer.from(text, 'base64url').toString('utf8').trimStart().startsWith('{')) {
    return null;
  }
  try {
    return parseAttestationInfo(doc as string | Record<string, unknown>);
  } catch (e) {
    if (!(e instanceof AttestationError)) throw e;
    throw new UsageError('ERR_USAGE', `--report looks like an AzureGuest request but cannot be read: ${e.message}`);
  }
}

/** AzureGuest: the certificates it carries (and --certs), fetched from KDS when missing, then verifyAzureGuest. */
async function verifyGuestCommand(request: AzureGuestRequest, flags: VerifyFlags, io: CliIo): Promise<0 | 1 | 2> {
  if (flags.quote || flags.pcrs || flags.nonce) throw new UsageError('ERR_USAGE', '--quote, --pcrs and --nonce apply to HCL reports; an AzureGuest request carries its own quote');
  const trust = await buildTrust(io, flags.simRoots);
  const anchors = flags.akCertAnchors ? await readAnchors(io, flags.akCertAnchors) : undefined;
  let certificates: ParsedCertificate[];
  try {
    certificates = request.isolation.vcekCertChain.length > 0 ? loadCertificates(request.isolation.vcekCertChain) : [];
    for (const file of flags.certs ?? []) certificates.push(...loadCertificates(await readInput(io, file, 'certificate')));
    certificates = (await completeEndorsements(request.isolation.snpReport, certificates, kdsClient(flags, io))).certificates;
  } catch (e) {
    if (!(e instanceof AttestationError)) throw e;
    io.stderr(`zt4ai: ${e.code}: ${e.message}\n`);
    return KDS_IO_CODES.has(e.code) ? EXIT.usage : EXIT.negative;
  }
  const verdict = verifyAzureGuest(request, { certificates, trust, now: parseNow(flags.now), allowMaskedChipId: Boolean(flags.allowMaskedChipId), ...(anchors ? { akCertAnchors: anchors } : {}) });
  printGuestVerdict(io, flags, verdict);
  return verdict.ok ? EXIT.ok : EXIT.negative;
}

async function readAnchors(io: CliIo, file: string): Promise<X509Certificate[]> {
  try {
    return loadPemBundle((await readInput(io, file, 'AK certificate anchors')).toString('utf8')).map((c) => c.x509);
  } catch (e) {
    if (!(e instanceof AttestationError)) throw e;
    throw new UsageError('ERR_USAGE', `--ak-cert-anchors "${file}" is not a PEM file of certificates: ${e.message}`);
  }
}

function kdsClient(flags: VerifyFlags, io: CliIo): KdsClient {
  return new KdsClient({
    baseUrl: flags.kdsUrl ?? 'https://kdsintf.amd.com',
    cacheDir: flags.cacheDir ? resolve(io.cwd, flags.cacheDir) : defaultCacheDir(io.env),
    offline: Boolean(flags.offline),
    ...(io.isTTY ? { onProgress: (msg: string) => io.stderr(`zt4ai: ${msg}\n`) } : {}),
  });
}

/** --quote/--pcrs/--nonce: file and flag shapes are usage errors (exit 2); what the quote says is the verdict's. */
async function readQuoteEvidence(io: CliIo, flags: VerifyFlags): Promise<QuoteEvidence | undefined> {
  if (!flags.quote) {
    if (flags.pcrs || flags.nonce) throw new UsageError('ERR_USAGE', '--pcrs and --nonce need --quote');
    return undefined;
  }
  if (!flags.nonce) throw new UsageError('ERR_USAGE', '--quote needs --nonce: a quote is only fresh against the nonce the verifier chose');
  if (!/^(?:[0-9a-fA-F]{2}){1,64}$/.test(flags.nonce)) throw new UsageError('ERR_USAGE', '--nonce must be 1 to 64 bytes of hex');
  const file = await readJsonFile(io, flags.quote, 'quote');
  const message = hexField(file, 'message', flags.quote);
  const signature = hexField(file, 'signature', flags.quote);
  const pcrSource = flags.pcrs ? await readJsonFile(io, flags.pcrs, 'PCR') : file.pcrs;
  if (pcrSource === undefined) throw new UsageError('ERR_USAGE', `--quote needs --pcrs, or a "pcrs" member in ${flags.quote}`);
  return { quote: { message, signature }, nonce: Buffer.from(flags.nonce, 'hex'), pcrs: pcrValues(pcrSource) };
}

async function readJsonFile(io: CliIo, file: string, what: string): Promise<Record<string, unknown>> {
  const text = (await readInput(io, file, what)).toString('utf8');
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null) return value as Record<string, unknown>;
  } catch {
    // Reported below with the file name.
  }
  throw new UsageError('ERR_USAGE', `${what} file "${file}" is not a JSON object or array`);
}

function hexField(file: Record<string, unknown>, name: string, path: string): Buffer {
  const value = file[name];
  if (typeof value !== 'string' || !/^(?:[0-9a-fA-F]{2})+$/.test(value)) throw new UsageError('ERR_USAGE', `quote file "${path}" needs "${name}" as hex`);
  return Buffer.from(value, 'hex');
}

function pcrValues(json: unknown): PcrValues {
  try {
    return parsePcrValues(json);
  } catch (e) {
    if (e instanceof AttestationError) throw new UsageError('ERR_USAGE', `--pcrs: ${e.message}`, { cause: e });
    throw e;
  }
}

function defaultCacheDir(env: NodeJS.ProcessEnv): string {
  return join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'zt4ai', 'kds');
}
