import { type KeyObject, constants, createCipheriv, createDecipheriv, publicEncrypt, randomBytes } from 'node:crypto';
import { KeystoreError, wipe } from '../keystore/errors.js';

/**
 * MAA's AzureGuest answer: the token is AES-GCM-encrypted under a fresh key, and that key is RSAES-PKCS1-v1_5
 * encrypted to the vTPM's ephemeral key, so only that TPM (in the PCR state its key policy names) can read
 * the token. Layout and constants from Microsoft's guest attestation library (TpmUnseal.cpp `DecryptJwt`,
 * AttestationLibConst.h): `{"token": base64url(JSON{Jwt, EncryptedInnerKey, EncryptionParams{Cipher: "AES",
 * BlockMode: "ChainingModeGCM", BlockPadding: "PKCS7", KeySizeInBits, Iv}, AuthenticationData})}`, binary
 * values in standard base64, AAD the ASCII "Transport Key", AuthenticationData the GCM tag.
 */
const AAD = Buffer.from('Transport Key', 'ascii');
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** A token is a few KiB; anything near this is not one. */
const MAX_ENVELOPE_CHARS = 1024 * 1024;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Decrypts the inner key inside the TPM: RSAES-PKCS1-v1_5 with the ephemeral key, under its PCR policy. */
export type InnerKeyDecrypt = (encryptedInnerKey: Buffer) => Promise<Buffer>;

/** The envelope MAA answers for `token`: the JWT encrypted to `encryptionKey` (the certified ephemeral key). */
export function sealMaaToken(jwt: string, encryptionKey: KeyObject): string {
  const key = randomBytes(32);
  try {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(AAD);
    const ct = Buffer.concat([cipher.update(jwt, 'utf8'), cipher.final()]);
    const envelope = {
      Jwt: ct.toString('base64'),
      EncryptedInnerKey: publicEncrypt({ key: encryptionKey, padding: constants.RSA_PKCS1_PADDING }, key).toString('base64'),
      EncryptionParams: { Cipher: 'AES', BlockMode: 'ChainingModeGCM', BlockPadding: 'PKCS7', KeySizeInBits: 256, Iv: iv.toString('base64') },
      AuthenticationData: cipher.getAuthTag().toString('base64'),
    };
    return Buffer.from(JSON.stringify(envelope), 'utf8').toString('base64url');
  } finally {
    wipe(key);
  }
}

interface Envelope {
  readonly jwt: Buffer;
  readonly innerKey: Buffer;
  readonly keyBits: number;
  readonly iv: Buffer;
  readonly tag: Buffer;
}

/** Opens MAA's envelope with the TPM's help; the inner key is wiped once used. Throws ERR_MAA_ENVELOPE*. */
export async function openMaaToken(token: string, decryptInnerKey: InnerKeyDecrypt): Promise<string> {
  const env = parseEnvelope(token);
  let key: Buffer;
  try {
    key = await decryptInnerKey(env.innerKey);
  } catch (cause) {
    throw new KeystoreError('ERR_MAA_ENVELOPE_DECRYPT', `the TPM could not decrypt the token's inner key (${(cause as Error).message.slice(0, 200)})`, { cause });
  }
  try {
    if (key.length * 8 !== env.keyBits) throw new KeystoreError('ERR_MAA_ENVELOPE_DECRYPT', `the inner key is ${key.length * 8} bits; EncryptionParams says ${env.keyBits}`);
    const decipher = createDecipheriv(`aes-${env.keyBits}-gcm` as 'aes-256-gcm', key, env.iv, { authTagLength: env.tag.length });
    decipher.setAAD(AAD);
    decipher.setAuthTag(env.tag);
    try {
      return Buffer.concat([decipher.update(env.jwt), decipher.final()]).toString('utf8');
    } catch {
      throw new KeystoreError('ERR_MAA_ENVELOPE_DECRYPT', 'the AES-GCM tag of the token does not verify: the answer was altered, or its inner key was made for another TPM key');
    }
  } finally {
    wipe(key);
  }
}

function parseEnvelope(token: string): Envelope {
  const bad = (why: string): KeystoreError => new KeystoreError('ERR_MAA_ENVELOPE', `the AzureGuest token ${why}`);
  if (typeof token !== 'string' || token.length === 0 || token.length > MAX_ENVELOPE_CHARS || !/^[A-Za-z0-9_-]+={0,2}$/.test(token)) throw bad('is not base64url');
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    throw bad('is not base64url of JSON');
  }
  if (typeof doc !== 'object' || doc === null) throw bad('is not a JSON object');
  const params = doc.EncryptionParams as Record<string, unknown> | undefined;
  if (typeof params !== 'object' || params === null) throw bad('has no EncryptionParams');
  if (params.Cipher !== 'AES' || params.BlockMode !== 'ChainingModeGCM' || params.BlockPadding !== 'PKCS7' || ![128, 192, 256].includes(params.KeySizeInBits as number)) {
    throw new KeystoreError('ERR_MAA_ENVELOPE_PARAMS', `the AzureGuest token is encrypted with ${String(params.Cipher).slice(0, 20)}/${String(params.BlockMode).slice(0, 30)}/${String(params.KeySizeInBits).slice(0, 10)}; AES-GCM is expected`);
  }
  const field = (value: unknown, name: string): Buffer => {
    if (typeof value !== 'string' || value.length === 0 || !BASE64.test(value)) throw bad(`has no base64 ${name}`);
    return Buffer.from(value, 'base64');
  };
  const tag = field(doc.AuthenticationData, 'AuthenticationData');
  if (tag.length < 12 || tag.length > 16) throw bad(`has a ${tag.length}-byte GCM tag`);
  const iv = field(params.Iv, 'EncryptionParams.Iv');
  return { jwt: field(doc.Jwt, 'Jwt'), innerKey: field(doc.EncryptedInnerKey, 'EncryptedInnerKey'), keyBits: params.KeySizeInBits as number, iv, tag };
}
