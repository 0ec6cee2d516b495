import { API_VERSIONS } from '../config.js';
import { KrsError } from '../errors.js';

/** Before body validation, so a wrong api-version is reported as such rather than as a body problem. */
export async function checkApiVersion(request: { query: { 'api-version'?: string } }): Promise<void> {
  const version = request.query['api-version'];
  if (version === undefined || !(API_VERSIONS as readonly string[]).includes(version)) {
    throw new KrsError('ERR_API_VERSION_UNSUPPORTED', `api-version ${version === undefined ? 'is missing' : 'is not supported'}; use one of ${API_VERSIONS.join(', ')}`);
  }
}
