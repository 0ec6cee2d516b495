import type { BackendConfig, LlamaBackendConfig, UpstreamBackendConfig, UpstreamCommand } from './types.js';
import { bad, integer, isLoopbackHost, object, oneOf, onlyKeys, serviceUrl, stringList, text } from './values.js';

const LLAMA_KEYS = ['kind', 'file', 'threads', 'gpu', 'contextSize', 'parallel', 'promptFormat'];
const UPSTREAM_KEYS = ['kind', 'url', 'command', 'model', 'timeoutMs'];

/** `backend`: llama (in-process GGUF), openai-upstream (loopback server; `openai-proxy` is its older name) or ngram (default). */
export function backendSection(value: unknown): BackendConfig {
  const v = object(value, 'backend') ?? { kind: 'ngram' };
  const kind = oneOf(v.kind, 'backend.kind', ['ngram', 'llama', 'openai-upstream', 'openai-proxy'] as const) ?? 'ngram';
  if (kind === 'llama') return llamaSection(v);
  if (kind === 'ngram') {
    onlyKeys(v, 'backend (ngram)', ['kind', 'file']);
    return { kind, file: text(v.file, 'backend.file') ?? 'ngram.json' };
  }
  return upstreamSection(v);
}

function llamaSection(v: Record<string, unknown>): LlamaBackendConfig {
  onlyKeys(v, 'backend (llama)', LLAMA_KEYS);
  return {
    kind: 'llama',
    file: text(v.file, 'backend.file') ?? 'model.gguf',
    threads: integer(v.threads, 'backend.threads', 1, 1024) ?? 1,
    gpu: oneOf(v.gpu, 'backend.gpu', ['auto', 'cpu', 'cuda', 'vulkan', 'metal'] as const) ?? 'auto',
    contextSize: integer(v.contextSize, 'backend.contextSize', 16, 1_048_576),
    parallel: integer(v.parallel, 'backend.parallel', 1, 64) ?? 1,
    promptFormat: oneOf(v.promptFormat, 'backend.promptFormat', ['auto', 'chat', 'completion'] as const) ?? 'auto',
  };
}

function upstreamSection(v: Record<string, unknown>): UpstreamBackendConfig {
  onlyKeys(v, 'backend (openai-upstream)', UPSTREAM_KEYS);
  const command = commandSection(v.command);
  if ((v.url === undefined || v.url === null) === (command === null)) {
    throw bad('backend openai-upstream needs exactly one of url (a server already running on loopback) or command (the runner starts it)');
  }
  let url: string | null = null;
  if (command === null) {
    // The upstream sees prompts and answers in clear: it must run inside this VM.
    const u = serviceUrl(v.url, 'backend.url');
    if (!isLoopbackHost(u.hostname)) throw bad('backend.url must be a loopback URL (the upstream runs inside this confidential VM)');
    url = u.href.replace(/\/+$/, '');
  }
  return { kind: 'openai-upstream', url, command, model: text(v.model, 'backend.model'), timeoutMs: integer(v.timeoutMs, 'backend.timeoutMs', 100, 3_600_000) ?? 120_000 };
}

function commandSection(value: unknown): UpstreamCommand | null {
  const c = object(value, 'backend.command');
  if (c === null) return null;
  onlyKeys(c, 'backend.command', ['argv', 'file', 'startTimeoutMs']);
  const argv = stringList(c.argv, 'backend.command.argv');
  if (argv === null || argv.length === 0) throw bad('backend.command.argv is required: the program and its arguments, with {model} and {port} placeholders');
  if (!argv.some((a) => a.includes('{port}'))) throw bad('backend.command.argv must contain {port}: the runner picks a free loopback port and the upstream must listen on it');
  return { argv, file: text(c.file, 'backend.command.file') ?? 'model.gguf', startTimeoutMs: integer(c.startTimeoutMs, 'backend.command.startTimeoutMs', 1_000, 3_600_000) ?? 120_000 };
}
