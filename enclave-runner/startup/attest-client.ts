import type { Dispatcher } from 'undici';
import type { AttestationConfig } from '../config/types.js';
import { RunnerError } from '../errors.js';
import { openMaaToken } from '../../keys/wrap/maa-envelope.js';
import type { AzureGuestEvidence } from '../evidence/azure-guest.js';
import { type AzureVtpmEvidence, type SnpEvidence, certificateChainPem } from '../evidence/source.js';
import { call, errorOf } from './http.js';

const b64u = (b: Uint8Array | string): string => Buffer.from(b).toString('base64url');

/**
 * The attestation service in MAA's wire format: `POST /attest/challenge` (the KRS's freshness nonce),
 * `POST /attest/SevSnpVm?api-version=2022-08-01`, and for Azure vTPM evidence MAA's `POST /attest/AzureGuest`
 * or, with a KRS's challenge, the KRS's `POST /attest/AzureCvm`.
 * A refusal (4xx) carries the service's code and every failed check; an unreachable or failing service
 * (network, 5xx) is told apart, since a retry may help.
 */
export class AttestClient {
  readonly #config: AttestationConfig;
  readonly #dispatcher: Dispatcher | undefined;
  readonly #signal: AbortSignal | undefined;

  constructor(config: AttestationConfig, dispatcher: Dispatcher | undefined, signal?: AbortSignal) {
    this.#config = config;
    this.#dispatcher = dispatcher;
    this.#signal = signal;
  }

  /** Whether the service issues challenges: a zt4ai KRS does, MAA has no challenge endpoint. */
  get issuesChallenges(): boolean {
    return this.#config.kind === 'zt4ai-krs';
  }

  /** A fresh challenge from the KRS; null for MAA. */
  async challenge(): Promise<string | null> {
    if (!this.issuesChallenges) return null;
    const res = await call('POST', `${this.#config.url}/attest/challenge`, undefined, this.#opts(), 'ERR_RUNNER_ATTEST_UNAVAILABLE');
    const nonce = (res.body as { nonce?: unknown } | null)?.nonce;
    if (res.status !== 200 || typeof nonce !== 'string') throw this.#failure(res.status, res.body, 'the challenge');
    return nonce;
  }

  /** Sends the evidence with its runtime data; returns the attestation token (the release target). */
  async attest(evidence: SnpEvidence, runtimeData: Buffer): Promise<string> {
    if (evidence.azureGuest) return this.#attestAzureGuest(evidence.azureGuest);
    if (evidence.azure) return this.#attestAzureCvm(evidence, evidence.azure, runtimeData);
    const chain = certificateChainPem(evidence.certificates);
    const report = { SnpReport: b64u(evidence.report), ...(chain ? { VcekCertChain: b64u(chain) } : {}) };
    const body = { report: b64u(JSON.stringify(report)), runtimeData: { data: b64u(runtimeData), dataType: 'JSON' } };
    return this.#token('/attest/SevSnpVm?api-version=2022-08-01', body);
  }

  /**
   * Azure confidential-VM evidence to the KRS's `POST /attest/AzureCvm`: the HCL report, the VCEK chain, the
   * quote over quoteBindingNonce(challenge, runtime data), the quoted PCRs, the challenge and the runtime data.
   * MAA has no such route, so only a KRS takes it; its quote binds the KRS's challenge, which AzureGuest cannot.
   */
  async #attestAzureCvm(evidence: SnpEvidence, azure: AzureVtpmEvidence, runtimeData: Buffer): Promise<string> {
    const chain = certificateChainPem(evidence.certificates);
    const body = {
      hclReport: b64u(azure.hclReport),
      ...(chain ? { certificates: b64u(chain) } : {}),
      quote: { message: b64u(azure.quote.message), signature: b64u(azure.quote.signature) },
      pcrs: azure.pcrs,
      nonce: azure.challenge,
      runtimeData: { data: b64u(runtimeData), dataType: 'JSON' },
    };
    return this.#token('/attest/AzureCvm?api-version=2022-08-01', body);
  }

  /**
   * MAA's confidential-VM flow, `POST /attest/AzureGuest?api-version=2020-10-01` with `{AttestationInfo}`: the
   * answer is the token encrypted to the vTPM's ephemeral key, opened here with the TPM's help. MAA and the KRS
   * both take it; the runtime data travels in ClientPayload.
   */
  async #attestAzureGuest(guest: AzureGuestEvidence): Promise<string> {
    const envelope = await this.#token('/attest/AzureGuest?api-version=2020-10-01', { AttestationInfo: b64u(JSON.stringify(guest.attestationInfo)) });
    try {
      return await openMaaToken(envelope, guest.decryptInnerKey);
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      throw new RunnerError('ERR_RUNNER_ATTEST_INVALID', `the AzureGuest answer cannot be opened: ${(e as Error).message.slice(0, 300)}`, { cause: e, ...(typeof code === 'string' ? { reason: { code } } : {}) });
    }
  }

  async #token(path: string, body: unknown): Promise<string> {
    const res = await call('POST', `${this.#config.url}${path}`, body, this.#opts(), 'ERR_RUNNER_ATTEST_UNAVAILABLE');
    const token = (res.body as { token?: unknown } | null)?.token;
    if (res.status !== 200 || typeof token !== 'string') throw this.#failure(res.status, res.body, 'the evidence');
    return token;
  }

  #opts(): { dispatcher: Dispatcher | undefined; signal: AbortSignal | undefined } {
    return { dispatcher: this.#dispatcher, signal: this.#signal };
  }

  #failure(status: number, body: unknown, what: string): RunnerError {
    const reason = errorOf(body) ?? { code: `HTTP_${status}` };
    if (status >= 400 && status < 500) return new RunnerError('ERR_RUNNER_ATTEST_REFUSED', `the attestation service refused ${what}: ${reason.code}${reason.message ? ` (${reason.message})` : ''}`, { reason });
    return new RunnerError('ERR_RUNNER_ATTEST_UNAVAILABLE', `the attestation service answered HTTP ${status} to ${what}${reason.code ? ` (${reason.code})` : ''}`, { reason });
  }
}
