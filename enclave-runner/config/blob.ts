import { isIP } from 'node:net';
import type { AzureBlobSource } from './types.js';
import { type Obj, bad, integer, serviceUrl, text } from './values.js';

const DEFAULT_MAX_BYTES = 256 * 1024 ** 3;
/** Blob Storage's container names: 3-63 lowercase letters, digits and single hyphens, starting and ending alphanumeric. */
const CONTAINER = /^(?=.{3,63}$)[a-z0-9]+(?:-[a-z0-9]+)*$/;

/**
 * `sealedModel` of kind `azure-blob`: `url` is the sealed directory's URL, `<account URL>/<container>/<prefix>/`,
 * as the Bicep templates write it. Hosts are account names (https://<account>.blob.core.windows.net); an IP host
 * or localhost is path-style, the account being the first path segment (how the Azure SDK and emulators address
 * accounts on IPs). Only https, or http on loopback: the bearer token travels with every request.
 */
export function azureBlobSection(v: Obj): AzureBlobSource {
  const url = serviceUrl(v.url, 'sealedModel.url');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const pathStyle = isIP(host) !== 0 || host === 'localhost';
  let segments: string[];
  try {
    segments = url.pathname.split('/').slice(1).map(decodeURIComponent);
  } catch {
    throw bad(`sealedModel.url "${url.href}" has an invalid percent-encoding`);
  }
  const account = pathStyle ? segments.shift() : undefined;
  if (pathStyle && !account) throw bad(`sealedModel.url "${url.href}" on an IP host must be path-style: http://<ip>:<port>/<account>/<container>/<prefix>/`);
  const container = segments.shift() ?? '';
  if (!CONTAINER.test(container)) throw bad(`sealedModel.url "${url.href}" names no valid container: <account URL>/<container>/<prefix>/ (container 3-63 lowercase letters, digits, hyphens)`);
  // A decoded segment may hold "/" (%2F): split again, so that ".." cannot hide inside one.
  const parts = segments.flatMap((s) => s.split('/')).filter((s) => s !== '');
  if (parts.some((s) => s === '.' || s === '..' || s.includes('\\'))) throw bad('sealedModel.url: the blob prefix must not contain ".", ".." or "\\" segments');
  return {
    accountUrl: pathStyle ? `${url.origin}/${encodeURIComponent(account!)}` : url.origin,
    container,
    prefix: parts.length === 0 ? '' : `${parts.join('/')}/`,
    managedIdentityClientId: text(v.managedIdentityClientId, 'sealedModel.managedIdentityClientId'),
    maxBytes: integer(v.maxBytes, 'sealedModel.maxBytes', 1, Number.MAX_SAFE_INTEGER) ?? DEFAULT_MAX_BYTES,
  };
}
