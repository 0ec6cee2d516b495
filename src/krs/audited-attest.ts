import type { Logger } from 'pino';
import { tokenReference } from '../../keys/audit/index.js';
import type { AttestRequestBody } from './attest-request.js';
import { type AttestOutcome, AttestService, type AttestServiceDeps } from './attest-service.js';
import type { AuditWriter } from './audit-writer.js';
import { KrsError } from './errors.js';

/**
 * The attest service with every decision in the audit log: outcome, reason codes and the token's jti and
 * launch measurement, never the token or the evidence. An issued token whose record cannot be written is
 * not handed out (ERR_AUDIT_WRITE); a refusal that cannot be recorded is still refused, and logged.
 */
export class AuditedAttestService extends AttestService {
  readonly #audit: AuditWriter;
  readonly #logger: Logger | undefined;

  constructor(deps: AttestServiceDeps, audit: AuditWriter, logger?: Logger) {
    super(deps);
    this.#audit = audit;
    this.#logger = logger;
  }

  override async attest(body: AttestRequestBody): Promise<AttestOutcome> {
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
    const details = { outcome: 'rejected', code: krs?.code ?? 'ERR_INTERNAL', reasons: (krs?.details ?? []).map((d) => d.code) };
    try {
      await this.#audit.record({ kind: 'attestation', actor: 'krs', details });
    } catch (cause) {
      this.#logger?.error({ err: cause, code: details.code }, 'attestation refusal could not be written to the audit log');
    }
  }
}

function issuedDetails(outcome: AttestOutcome): Record<string, string | boolean> {
  const ref = tokenReference(outcome.token);
  const measurement = claimOf(outcome.token, 'x-ms-sevsnpvm-launchmeasurement');
  return {
    outcome: 'issued',
    ...(ref.jti === undefined ? {} : { jti: ref.jti }),
    tokenSha256: ref.sha256,
    signingKid: outcome.kid,
    simulated: outcome.simulated,
    fresh: outcome.fresh,
    ...(typeof measurement === 'string' ? { measurement } : {}),
  };
}

/** One claim of a token this service has just signed (so reading it unverified is sound). */
function claimOf(token: string, name: string): unknown {
  try {
    return (JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>)[name];
  } catch {
    return undefined;
  }
}
