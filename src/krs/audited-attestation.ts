import type { Logger } from 'pino';
import { tokenReference } from '../../keys/audit/index.js';
import type { AttestOutcome } from './attest-service.js';
import type { AuditWriter } from './audit-writer.js';
import { KrsError } from './errors.js';

/** Anything that attests a request body into a signed token (the SevSnpVm and Azure CVM services). */
export interface Attester<B, O extends AttestOutcome = AttestOutcome> {
  attest(body: B): Promise<O>;
}

/** How one evidence type is recorded: its name in the audit details, and where its token keeps the measurement. */
export interface AttestationAuditProfile {
  /** Added as `details.evidence`; absent for SevSnpVm, whose entries predate the other types. */
  readonly evidence?: string;
  readonly measurement: (payload: Record<string, unknown>) => unknown;
}

export const SEV_SNP_AUDIT: AttestationAuditProfile = {
  measurement: (p) => p['x-ms-sevsnpvm-launchmeasurement'],
};

export const AZURE_CVM_AUDIT: AttestationAuditProfile = {
  evidence: 'azure-cvm',
  measurement: (p) => (p['x-ms-isolation-tee'] as Record<string, unknown> | undefined)?.['x-ms-sevsnpvm-launchmeasurement'],
};

export const AZURE_GUEST_AUDIT: AttestationAuditProfile = { ...AZURE_CVM_AUDIT, evidence: 'azure-guest' };

/**
 * An attester with every decision in the audit log: outcome, reason codes and the token's jti, hash and launch
 * measurement, never the token or the evidence. An issued token whose record cannot be written is not handed out
 * (ERR_AUDIT_WRITE); a refusal that cannot be recorded is still refused, and logged.
 */
export function auditedAttester<B, O extends AttestOutcome = AttestOutcome>(inner: Attester<B, O>, profile: AttestationAuditProfile, audit: AuditWriter, logger?: Logger): Attester<B, O> {
  const evidence = profile.evidence === undefined ? {} : { evidence: profile.evidence };
  const recordRefusal = async (e: unknown): Promise<void> => {
    const krs = e instanceof KrsError ? e : null;
    const details = { outcome: 'rejected', ...evidence, code: krs?.code ?? 'ERR_INTERNAL', reasons: (krs?.details ?? []).map((d) => d.code) };
    try {
      await audit.record({ kind: 'attestation', actor: 'krs', details });
    } catch (cause) {
      logger?.error({ err: cause, code: details.code }, 'attestation refusal could not be written to the audit log');
    }
  };
  return {
    async attest(body: B): Promise<O> {
      let outcome: O;
      try {
        outcome = await inner.attest(body);
      } catch (e) {
        await recordRefusal(e);
        throw e;
      }
      try {
        await audit.record({ kind: 'attestation', actor: 'krs', details: { ...issuedDetails(outcome, profile), ...evidence } });
      } catch (cause) {
        logger?.error({ err: cause }, 'attestation audit entry could not be written; token withheld');
        throw new KrsError('ERR_AUDIT_WRITE', undefined, { cause });
      }
      return outcome;
    },
  };
}

function issuedDetails(outcome: AttestOutcome, profile: AttestationAuditProfile): Record<string, string | boolean> {
  const ref = tokenReference(outcome.token);
  const measurement = profile.measurement(payloadOf(outcome.token));
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

/** The payload of a token this service has just signed (so reading it unverified is sound). */
function payloadOf(token: string): Record<string, unknown> {
  try {
    return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return {};
  }
}
