import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { RunnerError } from '../errors.js';

/** Small validators for the config file: each names the setting it refuses (exit 2 in the CLI). */

export type Obj = Record<string, unknown>;

/** A configuration error naming the setting. */
export function bad(message: string): RunnerError {
  return new RunnerError('ERR_RUNNER_CONFIG', message);
}

/** An optional JSON object setting. */
export function object(value: unknown, name: string): Obj | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'object' || Array.isArray(value)) throw bad(`${name} must be an object`);
  return value as Obj;
}

/** Refuses unknown keys: a typo must not silently fall back to a default. */
export function onlyKeys(v: Obj, name: string, keys: readonly string[]): void {
  for (const k of Object.keys(v)) if (!keys.includes(k)) throw bad(`${name}: unknown setting "${k}" (known: ${keys.join(', ')})`);
}

/** An optional non-empty string setting. */
export function text(value: unknown, name: string): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || value.length === 0) throw bad(`${name} must be a non-empty string`);
  return value;
}

/** A required non-empty string setting. */
export function required(value: unknown, name: string): string {
  const t = text(value, name);
  if (t === null) throw bad(`${name} is required`);
  return t;
}

/** An optional boolean setting. */
export function bool(value: unknown, name: string): boolean | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'boolean') throw bad(`${name} must be true or false`);
  return value;
}

/** An optional integer setting within bounds. */
export function integer(value: unknown, name: string, min: number, max: number): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) throw bad(`${name} must be an integer in ${min}..${max}`);
  return value;
}

/** An optional setting from a fixed list. */
export function oneOf<T extends string>(value: unknown, name: string, allowed: readonly T[]): T | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) throw bad(`${name} must be one of ${allowed.join(', ')}`);
  return value as T;
}

/** An optional path, resolved against the config file's directory. */
export function path(value: unknown, name: string, baseDir: string): string | null {
  const t = text(value, name);
  return t === null ? null : resolve(baseDir, t);
}

/** An http(s) URL without credentials, query or fragment; plain http only to loopback (tokens and keys travel on it). */
export function serviceUrl(value: unknown, name: string): URL {
  const t = required(value, name);
  let url: URL;
  try {
    url = new URL(t);
  } catch {
    throw bad(`${name} "${t}" is not an absolute URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw bad(`${name} must be an http(s) URL`);
  if (url.username || url.password || url.search || url.hash) throw bad(`${name} must not carry credentials, a query or a fragment`);
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) throw bad(`${name}: plain http only to loopback (127.0.0.1, ::1, localhost); use https`);
  return url;
}

/** Loopback only: 127.0.0.0/8, ::1 and the name localhost (brackets of an IPv6 URL host allowed). */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
}

/** "host:port" or "[::1]:port"; port 0 picks a free port. */
export function listen(value: unknown): { host: string; port: number } {
  if (typeof value !== 'string') throw bad('listen must be a "host:port" string');
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value.trim());
  const port = m ? Number(m[3]) : Number.NaN;
  if (!m || port > 65_535) throw bad(`listen "${value}" is not host:port (IPv6 as [::1]:port; port 0 picks a free one)`);
  return { host: (m[1] ?? m[2])!, port };
}

/** An optional list of non-empty strings. */
export function stringList(value: unknown, name: string): string[] | null {
  if (value === undefined || value === null) return null;
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string' && v.length > 0)) throw bad(`${name} must be a list of non-empty strings`);
  return value as string[];
}
