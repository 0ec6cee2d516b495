import { API_VERSIONS } from '../config.js';
import { KRS_ERROR_CODES } from '../errors.js';

/** JSON Schemas shared by the routes; fastify validates requests and serialises responses with them. */

export const cloudErrorSchema = {
  $id: 'CloudError',
  type: 'object',
  description: "MAA's CloudError shape; details lists every failed check",
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', enum: Object.keys(KRS_ERROR_CODES) },
        message: { type: 'string' },
        details: {
          type: 'array',
          items: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' } } },
        },
      },
    },
  },
} as const;

/** Every route answers errors with CloudError. */
export const errorResponses = {
  '4xx': { $ref: 'CloudError#' },
  '5xx': { $ref: 'CloudError#' },
} as const;

const dataBlob = {
  type: 'object',
  required: ['data', 'dataType'],
  additionalProperties: false,
  properties: {
    data: { type: 'string', format: 'base64url', description: 'base64url (padded or not) of the exact bytes hashed into the report' },
    dataType: { type: 'string', enum: ['JSON', 'Binary'] },
  },
} as const;

export const attestBodySchema = {
  type: 'object',
  required: ['report', 'runtimeData'],
  additionalProperties: false,
  properties: {
    report: { type: 'string', minLength: 1, format: 'base64url', description: 'base64url of JSON {SnpReport, VcekCertChain?, Endorsements?}, each base64url' },
    runtimeData: { ...dataBlob, description: 'SHA-256 of data must be REPORT_DATA[0..32]; JSON becomes x-ms-runtime' },
    initTimeData: { ...dataBlob, description: 'SHA-256 of data must be HOST_DATA; JSON becomes x-ms-inittime' },
    nonce: {
      description: 'echoed as the nonce claim (not bound to the evidence: put a challenge nonce in runtimeData for that)',
      anyOf: [
        { type: 'string', maxLength: 1024 },
        { type: 'integer', minimum: 0 },
      ],
    },
  },
} as const;

export const apiVersionQuerySchema = {
  type: 'object',
  required: ['api-version'],
  properties: { 'api-version': { type: 'string', enum: [...API_VERSIONS] } },
} as const;

export const tokenResponseSchema = {
  type: 'object',
  required: ['token'],
  properties: { token: { type: 'string', pattern: '^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]*\\.[A-Za-z0-9_-]*$' } },
} as const;

/** AzureGuest's answer: `token` is MAA's envelope (base64url JSON with the encrypted JWT), not a JWT. */
export const guestTokenResponseSchema = {
  type: 'object',
  required: ['token'],
  properties: { token: { type: 'string', pattern: '^[A-Za-z0-9_-]+$' } },
} as const;

const b64u = (description: string) => ({ type: 'string', minLength: 1, format: 'base64url', description }) as const;

/** POST /attest/AzureGuest: MAA's confidential-VM request, as Microsoft's guest attestation library sends it. */
export const azureGuestBodySchema = {
  type: 'object',
  required: ['AttestationInfo'],
  additionalProperties: false,
  properties: {
    AttestationInfo: b64u('base64url of the AttestationInfo JSON: OS, TCG log, ClientPayload, TpmInfo (AK, quote, certified ephemeral key, PCRs), IsolationInfo (SNP report, VCEK chain, runtime claims)'),
  },
} as const;

/** POST /attest/AzureCvm: Azure confidential-VM evidence (zt4ai's own request; see azure-cvm-service.ts). */
export const azureCvmBodySchema = {
  type: 'object',
  required: ['hclReport', 'quote', 'pcrs', 'nonce', 'runtimeData'],
  additionalProperties: false,
  properties: {
    hclReport: b64u('base64url of vTPM NV index 0x01400001: the HCL report (SNP report + runtime claims)'),
    certificates: b64u('base64url of PEM certificates (VCEK, then ASK and ARK) or of Azure THIM JSON {vcekCert, certificateChain}'),
    quote: {
      type: 'object',
      required: ['message', 'signature'],
      additionalProperties: false,
      properties: {
        message: b64u('base64url of TPMS_ATTEST from TPM2_Quote by the AK (0x81000003)'),
        signature: b64u('base64url of TPMT_SIGNATURE (or bare RSASSA signature)'),
      },
    },
    pcrs: {
      type: 'object',
      description: 'the values of the PCRs the quote covers, {"<index>": "<hex>"}',
      minProperties: 1,
      maxProperties: 64,
      additionalProperties: false,
      patternProperties: { '^[0-9]{1,3}$': { type: 'string', pattern: '^[0-9a-fA-F]{40,128}$' } },
    },
    nonce: { type: 'string', minLength: 1, maxLength: 256, description: 'the challenge from POST /attest/challenge, as issued' },
    runtimeData: {
      ...dataBlob,
      properties: { ...dataBlob.properties, dataType: { type: 'string', enum: ['JSON'] } },
      description: "the quote's extraData must be SHA-256(nonce UTF-8 ‖ these bytes); the JSON becomes x-ms-runtime",
    },
  },
} as const;
