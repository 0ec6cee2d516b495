import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveRunnerConfig } from '../../enclave-runner/config/load.js';
import { REPO_ROOT } from '../helpers/shared.js';

describe('deploy/runner/runner.example.json', () => {
  it("parses with the runner's configuration loader (its signer key file aside, which the VM provides)", async () => {
    const example = JSON.parse(readFileSync(join(REPO_ROOT, 'deploy/runner/runner.example.json'), 'utf8')) as Record<string, unknown>;
    expect(example.trustedSigners).toEqual([{ kind: 'public-key', publicKeyFile: '/etc/zt4ai/model-signer.pub.pem' }]);
    const signer = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' });
    const config = await resolveRunnerConfig({ ...example, trustedSigners: [{ kind: 'public-key', publicKeyPem: signer }] }, join(REPO_ROOT, 'deploy/runner'));
    expect(config.listen).toEqual({ host: '0.0.0.0', port: 8443 });
    expect(config.tls).toEqual({ certFile: '/etc/zt4ai/runner-tls.pem', keyFile: '/etc/zt4ai/runner-tls.key' });
    expect(config.keySource.releaseSigner).toEqual({ caFile: '/etc/zt4ai/krs-release-ca.pem' });
  });
});
