import { describe, expect, it } from 'vitest';
import { launchUpstream } from '../../../enclave-runner/backends/upstream/launch.js';

// A minimal OpenAI-compatible server: it answers /v1/models once it has "loaded" the model path it was given.
const SERVER = `
const [model, port] = process.argv.slice(1);
require('node:http').createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: [{ id: require('node:path').basename(model) }] }));
}).listen(Number(port), '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
`;

const command = (argv: string[], startTimeoutMs = 20_000) => ({ argv, file: 'model.gguf', startTimeoutMs });

describe('starting an upstream server (backend.command)', () => {
  it('fills in {model} and {port}, waits until GET /v1/models answers, and stops it', async () => {
    const up = await launchUpstream(command([process.execPath, '-e', SERVER, '{model}', '{port}']), '/dev/shm/some dir/model.gguf');
    try {
      expect(up.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const models = (await (await fetch(`${up.url}/v1/models`)).json()) as { data: Array<{ id: string }> };
      // The path reached the program as one argument, spaces and all: no shell re-parsed it.
      expect(models.data[0]!.id).toBe('model.gguf');
    } finally {
      await up.stop();
    }
    expect(() => process.kill(up.pid, 0)).toThrow();
    await up.stop();
  });

  it("explains a start that failed with the program's last output", async () => {
    await expect(launchUpstream(command([process.execPath, '-e', 'console.error("cannot open the model"); process.exit(3)', '{port}']), '/x')).rejects.toMatchObject({
      code: 'ERR_RUNNER_BACKEND',
      message: expect.stringMatching(/exited \(code 3\)[\s\S]*cannot open the model/),
    });
    await expect(launchUpstream(command(['/nonexistent/llama-server', '{port}']), '/x')).rejects.toMatchObject({ code: 'ERR_RUNNER_BACKEND', message: expect.stringMatching(/could not be started: ENOENT/) });
  });

  it('gives up after startTimeoutMs', async () => {
    const err = await launchUpstream(command([process.execPath, '-e', 'setInterval(() => {}, 1000)', '{port}'], 1_000), '/x').catch((e: Error) => e);
    expect(err).toMatchObject({ code: 'ERR_RUNNER_BACKEND', message: expect.stringMatching(/did not answer GET \/v1\/models within 1000 ms/) });
  });
});
