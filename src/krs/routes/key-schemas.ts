/** JSON Schemas of Key Vault's key API bodies, as @azure/keyvault-keys sends them (azure-protocols.md §2.2). */

const name = { type: 'string', pattern: '^[0-9A-Za-z-]{1,127}$', description: 'key name' } as const;
const version = { type: 'string', pattern: '^[0-9A-Fa-f]{32}$', description: 'key version (32 hex characters)' } as const;

export const nameParams = { type: 'object', required: ['name'], properties: { name } } as const;
export const versionParams = { type: 'object', required: ['name', 'version'], properties: { name, version } } as const;

export const releasePolicySchema = {
  type: 'object',
  required: ['data'],
  additionalProperties: false,
  properties: {
    contentType: { type: 'string', maxLength: 100 },
    data: { type: 'string', minLength: 1, maxLength: 90_000, description: 'base64url of the policy JSON' },
    immutable: { type: 'boolean' },
  },
} as const;

/** Attributes a request may carry; nbf/exp are refused by the route (ERR_KEY_FEATURE_UNSUPPORTED). */
const attributes = {
  type: 'object',
  additionalProperties: false,
  properties: {
    enabled: { type: 'boolean' },
    exportable: { type: 'boolean' },
    nbf: { type: 'integer' },
    exp: { type: 'integer' },
    hsmPlatform: { type: 'string' },
  },
} as const;

const keyOps = { type: 'array', maxItems: 8, items: { type: 'string', maxLength: 16 } } as const;
const tags = { type: 'object', additionalProperties: { type: 'string' } } as const;

export const createKeyBody = {
  type: 'object',
  required: ['kty'],
  additionalProperties: false,
  properties: {
    kty: { type: 'string', enum: ['oct', 'oct-HSM', 'RSA', 'RSA-HSM', 'EC', 'EC-HSM'] },
    key_size: { type: 'integer' },
    key_ops: keyOps,
    attributes,
    release_policy: releasePolicySchema,
    public_exponent: { type: 'integer' },
    crv: { type: 'string' },
    tags,
  },
} as const;

const b64u = { type: 'string', maxLength: 2048, pattern: '^[A-Za-z0-9_-]*$' } as const;

/** A JSON Web Key as Key Vault's import takes it; EC parts and BYOK's key_hsm are refused by the route. */
const importJwk = {
  type: 'object',
  required: ['kty'],
  additionalProperties: false,
  properties: {
    kid: { type: 'string', maxLength: 512 },
    kty: { type: 'string', enum: ['oct', 'oct-HSM', 'RSA', 'RSA-HSM', 'EC', 'EC-HSM'] },
    key_ops: keyOps,
    k: b64u,
    n: b64u,
    e: b64u,
    d: b64u,
    p: b64u,
    q: b64u,
    dp: b64u,
    dq: b64u,
    qi: b64u,
    key_hsm: { type: 'string', maxLength: 16_384 },
    crv: { type: 'string' },
    x: b64u,
    y: b64u,
  },
} as const;

/** Key Vault's import body (`Hsm` as the SDK spells it, `hsm` as the REST reference does). */
export const importKeyBody = {
  type: 'object',
  required: ['key'],
  additionalProperties: false,
  properties: { key: importJwk, Hsm: { type: 'boolean' }, hsm: { type: 'boolean' }, attributes, release_policy: releasePolicySchema, tags },
} as const;

export const updateKeyBody = {
  type: 'object',
  additionalProperties: false,
  properties: { attributes, key_ops: keyOps, release_policy: releasePolicySchema, tags },
} as const;

export const releaseBody = {
  type: 'object',
  required: ['target'],
  additionalProperties: false,
  properties: {
    target: { type: 'string', minLength: 1, maxLength: 60_000, description: 'attestation token (JWT) of the TEE' },
    nonce: { type: 'string', maxLength: 1024 },
    enc: { type: 'string', description: 'CKM_RSA_AES_KEY_WRAP (default), RSA_AES_KEY_WRAP_256 or RSA_AES_KEY_WRAP_384' },
  },
} as const;

/** Key Vault's paging parameters: `maxresults` (1-25) and the `$skiptoken` of a nextLink. */
export const listQuery = {
  type: 'object',
  properties: {
    'api-version': { type: 'string' },
    maxresults: { type: 'string', pattern: '^([1-9]|1[0-9]|2[0-5])$' },
    $skiptoken: { type: 'string', maxLength: 200 },
  },
} as const;

export interface CreateKeyBody {
  kty: string;
  key_size?: number;
  key_ops?: string[];
  attributes?: AttributesBody;
  release_policy?: ReleasePolicyBody;
  public_exponent?: number;
  crv?: string;
  tags?: Record<string, string>;
}

export interface ImportJwkBody {
  kid?: string;
  kty: string;
  key_ops?: string[];
  k?: string;
  n?: string;
  e?: string;
  d?: string;
  p?: string;
  q?: string;
  dp?: string;
  dq?: string;
  qi?: string;
  key_hsm?: string;
  crv?: string;
  x?: string;
  y?: string;
}

export interface ImportKeyBody {
  key: ImportJwkBody;
  Hsm?: boolean;
  hsm?: boolean;
  attributes?: AttributesBody;
  release_policy?: ReleasePolicyBody;
  tags?: Record<string, string>;
}

export interface UpdateKeyBody {
  attributes?: AttributesBody;
  key_ops?: string[];
  release_policy?: ReleasePolicyBody;
  tags?: Record<string, string>;
}

export interface AttributesBody {
  enabled?: boolean;
  exportable?: boolean;
  nbf?: number;
  exp?: number;
}

export interface ReleasePolicyBody {
  contentType?: string;
  data: string;
  immutable?: boolean;
}

export interface ReleaseBody {
  target: string;
  nonce?: string;
  enc?: string;
}

export interface ListQuery {
  'api-version': string;
  maxresults?: string;
  $skiptoken?: string;
}
