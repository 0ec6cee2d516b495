import type { Logger } from 'pino';
import { tokenReference } from '../../keys/audit/index.js';
import type { AttestOutcome } from './attest-service.js';
import type { AuditWriter } from './audit-writer.js';
import { type AzureCvmRequestBody, AzureCvmService, type AzureCvmServiceDeps } from './azure-cvm-service.js';
import { KrsError } from './errors.js';

/**
 * The Azure confidential-VM attestation with every decision in the audit log, as AuditedAttestService does
 * for SevSnpVm: outcome, reason codes, the token's jti and hash and the launch measurement (from
 * `x-ms-isolation-tee`), `evidence: "azure-cvm"`; never the token or the evidence. An issued token whose
 * record cannot be written is withheld (ERR_AUDIT_WRITE); a refusal that cannot be recorded is still refused.
 */
export class AuditedAzureCvmService extends AzureCvmService {
  readonly #audit: AuditWriter;
  readonly #logger: Logger | undefined;

  constructor(deps: AzureCvmServiceDeps, audit: AuditWriter, logger?: Logger) {
    super(deps);
    this.#audit = audit;
    this.#logger = logger;
  }

  override async attest(body: AzureCvmRequestBody): Promise<AttestOutcome> {
    let outcome: AttestOutcome;
    try {
      outcome = await super.attest(body);
    } catch (e) {
      await this.#recordRefusal(e);
      throw e;
    }
    try {
      await this.#audit.record({ kind: 'attestation', actor: 'krs', details: issuedDetails(outcome) });
    } catch (cause) {
      this.#logger?.error({ err: cause }, 'attestation audit entry could not be written; token withheld');
      throw new KrsError('ERR_AUDIT_WRITE', undefined, { cause });
    }
    return outcome;
  }

  async #recordRefusal(e: unknown): Promise<void> {
    const krs = e instanceof KrsError ? e : null;
    const details = { outcome: 'rejected', evidence: 'azure-cvm', code: krs?.code ?? 'ERR_INTERNAL', reasons: (krs?.details ?? []).map((d) => d.code) };
    try {
      await this.#audit.record({ kind: 'attestation', actor: 'krs', details });
    } catch (cause) {
      this.#logger?.error({ err: cause, code: details.code }, 'attestation refusal could not be written to the audit log');
    }
  }
}

function issuedDetails(outcome: AttestOutcome): Record<string, string | boolean> {
  const ref = tokenReference(outcome.token);
  const measurement = teeMeasurement(outcome.token);
  return {
    outcome: 'issued',
    evidence: 'azure-cvm',
    ...(ref.jti === undefined ? {} : { jti: ref.jti }),
    tokenSha256: ref.sha256,
    signingKid: outcome.kid,
    simulated: outcome.simulated,
    fresh: outcome.fresh,
    ...(typeof measurement === 'string' ? { measurement } : {}),
  };
}

/** x-ms-isolation-tee.x-ms-sevsnpvm-launchmeasurement of a token this service has just signed (so reading it unverified is sound). */
function teeMeasurement(token: string): unknown {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, Record<string, unknown> | undefined>;
    return payload['x-ms-isolation-tee']?.['x-ms-sevsnpvm-launchmeasurement'];
  } catch {
    return undefined;
  }
}
