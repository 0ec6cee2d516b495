import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { REPO_ROOT } from '../helpers/shared.js';

/**
 * Starts `zt4ai krs serve` in its own process (its own core), trusting the simulator, rate limits off, with an
 * administrator token when given; resolves once it prints its listening URL.
 */
export async function startKrsChild(dir: string, adminToken?: string): Promise<{ url: string; child: ChildProcess }> {
  writeFileSync(join(dir, 'krs.json'), JSON.stringify({ rateLimit: false, logLevel: 'warn' }));
  const args = ['--import', 'tsx', resolve(REPO_ROOT, 'src/cli/main.ts'), 'krs', 'serve', '--config', join(dir, 'krs.json'), '--listen', '127.0.0.1:0', '--data-dir', join(dir, 'data'), '--trust-simulator', '--json'];
  if (adminToken !== undefined) {
    writeFileSync(join(dir, 'admin.token'), adminToken, { mode: 0o600 });
    args.push('--admin-token-file', join(dir, 'admin.token'));
  }
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'ignore'] });
  const url = await new Promise<string>((ok, fail) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /\{"listening":"([^"]+)"\}/.exec(out);
      if (m) ok(m[1]!);
    });
    child.once('exit', (code) => fail(new Error(`krs serve exited with ${code}`)));
  });
  return { url, child };
}
