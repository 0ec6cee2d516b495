import type { Logger } from 'pino';
import { type AuditDraft, type JsonValue, tokenReference } from '../../keys/audit/index.js';
import { type Keystore, type KeyVersionInfo, isKeystoreError, toKeyBundle, wipe } from '../../keys/keystore/index.js';
import { type ReleaseSigner, buildReleaseResponse } from '../../keys/release/index.js';
import { parseReleaseEnc } from '../../keys/wrap/index.js';
import type { AuditWriter } from './audit-writer.js';
import { KrsError } from './errors.js';
import type { KrsMetrics } from './metrics.js';
import { ReleaseDenial, decideRelease, teeKeyOf } from './release-decision.js';
import type { TargetVerifier, VerifiedTarget } from './trusted-issuers.js';

export interface ReleaseServiceDeps {
  readonly keystore: Keystore;
  readonly verifier: TargetVerifier;
  readonly signer: ReleaseSigner;
  readonly audit: AuditWriter;
  /** The vault URL in key identifiers (the KRS issuer). */
  readonly baseUrl: () => string;
  readonly metrics: KrsMetrics;
  /** Put failing clauses in the 403 (config denialDetails); the audit log always has them. */
  readonly denialDetails: boolean;
  readonly logger?: Logger;
}

/** Key Vault's release request, with what the route knows of the caller. */
export interface ReleaseRequest {
  readonly name: string;
  readonly version?: string;
  readonly apiVersion: string;
  readonly target: string;
  readonly nonce?: string;
  readonly enc?: string;
  /** The authenticated caller (audit actor). */
  readonly actor: string;
}

/** What the audit log learns of a release, accumulated as the decision proceeds. */
interface Trail {
  issuer?: string;
  version?: string;
  teeKid?: string;
  authority?: string;
}

/**
 * Secure Key Release: verify the target (this KRS's token or a trusted issuer's), take the TEE key from its
 * `x-ms-runtime.keys`, evaluate the key's release policy on its claims inside the keystore's export (so the
 * policy decided on is the integrity-checked one), wrap the material to the TEE key, sign Key Vault's
 * `{value: JWS}`, and record the decision. The material is wiped whatever happens; nothing is answered
 * before its audit entry is durable.
 */
export class ReleaseService {
  readonly #deps: ReleaseServiceDeps;

  constructor(deps: ReleaseServiceDeps) {
    this.#deps = deps;
  }

  async release(req: ReleaseRequest): Promise<{ value: string }> {
    const enc = parseReleaseEnc(req.enc);
    const trail: Trail = {};
    let value: string;
    try {
      value = await this.#decide(req, enc, trail);
    } catch (e) {
      await this.#recordDenial(req, enc, trail, e);
      throw e;
    }
    await this.#record({ kind: 'release-allowed', ...this.#entry(req, enc, trail, {}) }, true);
    this.#deps.metrics.releaseDecisions.inc({ outcome: 'allowed', reason: 'ok' });
    return { value };
  }

  async #decide(req: ReleaseRequest, enc: string, trail: Trail): Promise<string> {
    const target: VerifiedTarget = await this.#deps.verifier.verify(req.target);
    trail.issuer = target.issuer;
    const teeKey = teeKeyOf(target.claims);
    trail.teeKid = teeKey.kid;
    const authorize = (key: KeyVersionInfo): void => {
      trail.version = key.version;
      trail.authority = decideRelease(key, target, this.#deps.denialDetails);
    };
    const exported = await this.#deps.keystore.exportForRelease(req.name, { ...(req.version === undefined ? {} : { version: req.version }), authorize });
    try {
      const bundle = toKeyBundle(exported.key, this.#deps.baseUrl());
      const request = { apiVersion: req.apiVersion, enc, ...(req.nonce === undefined ? {} : { nonce: req.nonce }) };
      return (await buildReleaseResponse({ signer: this.#deps.signer, bundle, material: exported.material, teeKey, request })).value;
    } finally {
      wipe(exported.material);
    }
  }

  async #recordDenial(req: ReleaseRequest, enc: string, trail: Trail, e: unknown): Promise<void> {
    const code = e instanceof KrsError || isKeystoreError(e) ? e.code : 'ERR_INTERNAL';
    this.#deps.metrics.releaseDecisions.inc({ outcome: 'denied', reason: code });
    const reasons = e instanceof ReleaseDenial ? e.reasons : e instanceof KrsError ? e.details : [];
    const extra = { code, reasons: reasons as unknown as JsonValue };
    try {
      await this.#record({ kind: 'release-denied', ...this.#entry(req, enc, trail, extra) }, false);
    } catch {
      // Claim values the audit log refuses (a token-like string, say) must not lose the denial itself.
      await this.#record({ kind: 'release-denied', ...this.#entry(req, enc, trail, { code, reasons: reasons.map((r) => r.code) }) }, false).catch(() => undefined);
    }
  }

  #entry(req: ReleaseRequest, enc: string, trail: Trail, extra: Record<string, JsonValue>): Omit<AuditDraft, 'kind'> {
    const details: Record<string, JsonValue> = {
      token: tokenReference(req.target),
      enc,
      apiVersion: req.apiVersion,
      ...(trail.issuer === undefined ? {} : { issuer: trail.issuer }),
      ...(trail.teeKid === undefined ? {} : { teeKid: trail.teeKid.slice(0, 256) }),
      ...(trail.authority === undefined ? {} : { authority: trail.authority }),
      ...extra,
    };
    const version = trail.version ?? req.version;
    return { subject: { name: req.name, ...(version === undefined ? {} : { version }) }, actor: req.actor, details };
  }

  /** A release is only answered once recorded (`mustRecord`): an unrecorded one becomes ERR_AUDIT_WRITE. */
  async #record(draft: AuditDraft, mustRecord: boolean): Promise<void> {
    try {
      await this.#deps.audit.record(draft);
    } catch (cause) {
      this.#deps.logger?.error({ err: cause, kind: draft.kind }, 'release decision could not be written to the audit log');
      if (mustRecord) throw new KrsError('ERR_AUDIT_WRITE', undefined, { cause });
      throw cause;
    }
  }
}
