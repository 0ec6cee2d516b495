import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isLoopback, loadKrsConfigFile, parseListen, resolveKrsConfig } from '../../../src/krs/config.js';
import { KrsStartupError } from '../../../src/krs/errors.js';
import { removeTempDirs, tempDir } from './fixtures.js';

afterAll(removeTempDirs);

describe('KRS configuration', () => {
  it('defaults: loopback 8443, ./.zt4ai/krs, 300 s tokens, 120 s challenges, overlap 2 x lifetime, RSA-3072, 64 KiB', () => {
    const c = resolveKrsConfig({}, '/srv');
    expect(c).toMatchObject({
      listen: { host: '127.0.0.1', port: 8443 },
      issuer: null,
      dataDir: '/srv/.zt4ai/krs',
      tls: null,
      trustSimulator: false,
      tokenLifetimeSeconds: 300,
      challengeLifetimeSeconds: 120,
      signingKeyOverlapSeconds: 600,
      signingKeyBits: 3072,
      bodyLimitBytes: 65536,
      replayProtection: true,
      requireFreshness: false,
      rateLimit: { max: 60, timeWindowSeconds: 60 },
      kds: { enabled: false },
    });
    expect(resolveKrsConfig({ tokenLifetimeSeconds: '60' }).signingKeyOverlapSeconds).toBe(120);
  });

  it('refuses plain HTTP off loopback, and explains', () => {
    expect(() => resolveKrsConfig({ listen: '0.0.0.0:8443' })).toThrow(/refusing to serve plain HTTP on 0\.0\.0\.0/);
    expect(() => resolveKrsConfig({ listen: '10.0.0.5:8443' })).toThrow(KrsStartupError);
    expect(resolveKrsConfig({ listen: '0.0.0.0:8443', tls: { certFile: 'c.pem', keyFile: 'k.pem' } }).tls).not.toBeNull();
    for (const host of ['127.0.0.1', '127.1.2.3', '::1', 'localhost']) expect(isLoopback(host), host).toBe(true);
    for (const host of ['0.0.0.0', '::', '10.0.0.1', 'example.com', '127.example.com']) expect(isLoopback(host), host).toBe(false);
  });

  it('parses listen addresses, IPv6 in brackets, port 0', () => {
    expect(parseListen('127.0.0.1:0')).toEqual({ host: '127.0.0.1', port: 0 });
    expect(parseListen('[::1]:8443')).toEqual({ host: '::1', port: 8443 });
    for (const bad of ['127.0.0.1', ':80', '127.0.0.1:70000', '::1:80', 42]) expect(() => parseListen(bad), String(bad)).toThrow(KrsStartupError);
  });

  it('normalises the issuer (no trailing slash) and refuses query, fragment or other schemes', () => {
    expect(resolveKrsConfig({ issuer: 'https://krs.example.com/' }).issuer).toBe('https://krs.example.com');
    expect(resolveKrsConfig({ issuer: 'https://example.com/tenant/a/' }).issuer).toBe('https://example.com/tenant/a');
    for (const bad of ['krs.example.com', 'ftp://x', 'https://x/?a=1', 'https://x/#f', 'https://u:p@x']) expect(() => resolveKrsConfig({ issuer: bad }), bad).toThrow(KrsStartupError);
  });

  it('names the bad setting', () => {
    expect(() => resolveKrsConfig({ tokenLifetimeSeconds: 0 })).toThrow(/tokenLifetimeSeconds/);
    expect(() => resolveKrsConfig({ signingKeyBits: 1024 })).toThrow(/signingKeyBits/);
    expect(() => resolveKrsConfig({ nonceKey: 'c2hvcnQ=' })).toThrow(/nonceKey/);
    expect(() => resolveKrsConfig({ tls: { certFile: 'c.pem' } })).toThrow(/keyFile/);
    expect(() => resolveKrsConfig({ trustSimulator: 'yes' })).toThrow(/trustSimulator/);
    expect(() => resolveKrsConfig({ tokenLifetime: 5 } as never)).toThrow(/unknown setting "tokenLifetime"/);
    expect(resolveKrsConfig({ rateLimit: false }).rateLimit).toBeNull();
  });

  it('reads a JSON config file; relative paths are relative to the file', async () => {
    const dir = tempDir();
    const path = join(dir, 'krs.json');
    writeFileSync(path, JSON.stringify({ dataDir: 'data', tokenLifetimeSeconds: 60 }));
    const { input, baseDir } = await loadKrsConfigFile(path);
    expect(resolveKrsConfig(input, baseDir)).toMatchObject({ dataDir: join(dir, 'data'), tokenLifetimeSeconds: 60 });
    writeFileSync(path, '{nope');
    await expect(loadKrsConfigFile(path)).rejects.toThrow(/not valid JSON/);
    await expect(loadKrsConfigFile(join(dir, 'missing.json'))).rejects.toThrow(/ENOENT/);
  });
});
