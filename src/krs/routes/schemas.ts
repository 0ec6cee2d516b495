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
