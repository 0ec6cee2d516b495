import { spawn } from 'node:child_process';

export interface KilledRun {
  /** Complete stdout lines the child wrote before it died (a line cut by the kill is dropped). */
  readonly lines: string[];
  readonly signal: NodeJS.Signals | null;
  readonly code: number | null;
  readonly stderr: string;
}

export interface KillOptions {
  readonly cwd: string;
  /** SIGKILL this long after the first stdout line matching `armOn` (so the kill lands mid-work). */
  readonly killAfterMs: number;
  readonly armOn: RegExp;
  /** Give up (kill and reject) when the child has not armed within this time. */
  readonly timeoutMs?: number;
}

/**
 * Runs a child process and kills it with SIGKILL at a chosen moment: no signal handler, no flush, no exit hook
 * runs, like a power cut for the process. Resolves with what it acknowledged on stdout before dying.
 */
export function runAndKill(command: string, args: readonly string[], options: KillOptions): Promise<KilledRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let armed = false;
    const guard = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the child did not start working within ${options.timeoutMs ?? 15_000} ms; stderr: ${err.slice(0, 2000)}`));
    }, options.timeoutMs ?? 15_000);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      if (!armed && options.armOn.test(out)) {
        armed = true;
        clearTimeout(guard);
        setTimeout(() => child.kill('SIGKILL'), options.killAfterMs);
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      err += chunk;
    });
    child.on('error', (e) => {
      clearTimeout(guard);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(guard);
      const complete = out.endsWith('\n') ? out : out.slice(0, out.lastIndexOf('\n') + 1);
      resolve({ lines: complete.split('\n').filter((l) => l.length > 0), signal, code, stderr: err });
    });
  });
}
