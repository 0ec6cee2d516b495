/**
 * A small GGUF v3 writer (https://github.com/ggml-org/ggml/blob/master/docs/gguf.md): typed metadata, tensor
 * infos, and F32/F16 tensor data, each tensor padded to the alignment as llama.cpp's loader requires (it
 * rejects any tensor whose offset is not exactly the padded end of the previous one).
 */
import { writeFileSync } from 'node:fs';
import { float32ToFloat16Bits } from './half.js';

export const GGUF_MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
export const GGUF_VERSION = 3;
export const GGUF_DEFAULT_ALIGNMENT = 32;
/** ggml's GGML_MAX_NAME is 64 bytes including the terminating NUL. */
const MAX_TENSOR_NAME_BYTES = 63;

/** GGUF metadata value type ids (gguf_type). */
export const GGUF_TYPE = {
  uint8: 0,
  int8: 1,
  uint16: 2,
  int16: 3,
  uint32: 4,
  int32: 5,
  float32: 6,
  bool: 7,
  string: 8,
  array: 9,
  uint64: 10,
  int64: 11,
  float64: 12,
} as const;

/** ggml tensor type ids for the two types this writer emits. */
export const GGML_TYPE = { F32: 0, F16: 1 } as const;
export type GgmlTensorType = keyof typeof GGML_TYPE;

export type GgufNumberType = 'uint8' | 'int8' | 'uint16' | 'int16' | 'uint32' | 'int32' | 'float32' | 'float64';
export type GgufBigIntType = 'uint64' | 'int64';

export type GgufValue =
  | { readonly type: GgufNumberType; readonly value: number }
  | { readonly type: GgufBigIntType; readonly value: bigint }
  | { readonly type: 'bool'; readonly value: boolean }
  | { readonly type: 'string'; readonly value: string }
  | { readonly type: 'array'; readonly itemType: GgufNumberType; readonly values: readonly number[] }
  | { readonly type: 'array'; readonly itemType: 'string'; readonly values: readonly string[] }
  | { readonly type: 'array'; readonly itemType: 'bool'; readonly values: readonly boolean[] };

/** Shorthands for metadata values, so call sites read `kv.u32(256)` rather than object literals. */
export const kv = {
  u32: (value: number): GgufValue => ({ type: 'uint32', value }),
  i32: (value: number): GgufValue => ({ type: 'int32', value }),
  f32: (value: number): GgufValue => ({ type: 'float32', value }),
  u64: (value: bigint): GgufValue => ({ type: 'uint64', value }),
  bool: (value: boolean): GgufValue => ({ type: 'bool', value }),
  str: (value: string): GgufValue => ({ type: 'string', value }),
  strings: (values: readonly string[]): GgufValue => ({ type: 'array', itemType: 'string', values }),
  f32s: (values: readonly number[]): GgufValue => ({ type: 'array', itemType: 'float32', values }),
  i32s: (values: readonly number[]): GgufValue => ({ type: 'array', itemType: 'int32', values }),
};

export interface GgufTensor {
  readonly name: string;
  /** ggml order: dims[0] is the fastest-varying (a PyTorch [out, in] weight is [in, out] here). */
  readonly dims: readonly number[];
  readonly type: GgmlTensorType;
  /** Row-major values; converted to F16 on write when `type` is F16. */
  readonly data: Float32Array;
}

export interface GgufFile {
  /** Written in this order; keys must be unique. */
  readonly metadata: ReadonlyArray<readonly [string, GgufValue]>;
  readonly tensors: readonly GgufTensor[];
  /** Power of two; anything but 32 is recorded as `general.alignment`. */
  readonly alignment?: number;
}

export class GgufWriteError extends Error {
  override readonly name = 'GgufWriteError';
}

const NUMBER_RANGES: Record<GgufNumberType, readonly [number, number] | null> = {
  uint8: [0, 0xff],
  int8: [-0x80, 0x7f],
  uint16: [0, 0xffff],
  int16: [-0x8000, 0x7fff],
  uint32: [0, 0xffffffff],
  int32: [-0x80000000, 0x7fffffff],
  float32: null,
  float64: null,
};

/** Growable little-endian byte sink. */
class Sink {
  private buf = Buffer.alloc(1 << 16);
  length = 0;

  private ensure(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = Buffer.alloc(Math.max(this.buf.length * 2, this.length + n));
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }

  u8(v: number): void {
    this.ensure(1);
    this.length = this.buf.writeUInt8(v, this.length);
  }
  u32(v: number): void {
    this.ensure(4);
    this.length = this.buf.writeUInt32LE(v, this.length);
  }
  u64(v: bigint): void {
    this.ensure(8);
    this.length = this.buf.writeBigUInt64LE(v, this.length);
  }
  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }
  string(s: string): void {
    const b = Buffer.from(s, 'utf8');
    this.u64(BigInt(b.length));
    this.bytes(b);
  }
  number(type: GgufNumberType, v: number, where: string): void {
    const range = NUMBER_RANGES[type];
    if (range !== null && !(Number.isInteger(v) && v >= range[0] && v <= range[1])) {
      throw new GgufWriteError(`${where}: ${v} is not a valid ${type}`);
    }
    const size = { uint8: 1, int8: 1, uint16: 2, int16: 2, uint32: 4, int32: 4, float32: 4, float64: 8 }[type];
    this.ensure(size);
    const b = this.buf;
    const o = this.length;
    if (type === 'uint8') b.writeUInt8(v, o);
    else if (type === 'int8') b.writeInt8(v, o);
    else if (type === 'uint16') b.writeUInt16LE(v, o);
    else if (type === 'int16') b.writeInt16LE(v, o);
    else if (type === 'uint32') b.writeUInt32LE(v, o);
    else if (type === 'int32') b.writeInt32LE(v, o);
    else if (type === 'float32') b.writeFloatLE(v, o);
    else b.writeDoubleLE(v, o);
    this.length += size;
  }
  pad(alignment: number): void {
    const n = (alignment - (this.length % alignment)) % alignment;
    this.ensure(n);
    this.buf.fill(0, this.length, this.length + n);
    this.length += n;
  }
  result(): Buffer {
    return this.buf.subarray(0, this.length);
  }
}

function writeValue(out: Sink, key: string, value: GgufValue): void {
  out.u32(GGUF_TYPE[value.type]);
  switch (value.type) {
    case 'uint64':
      if (value.value < 0n || value.value >= 1n << 64n) throw new GgufWriteError(`${key}: ${value.value} is not a valid uint64`);
      out.u64(value.value);
      return;
    case 'int64':
      if (value.value < -(1n << 63n) || value.value >= 1n << 63n) throw new GgufWriteError(`${key}: ${value.value} is not a valid int64`);
      out.u64(BigInt.asUintN(64, value.value));
      return;
    case 'bool':
      out.u8(value.value ? 1 : 0);
      return;
    case 'string':
      out.string(value.value);
      return;
    case 'array':
      out.u32(GGUF_TYPE[value.itemType]);
      out.u64(BigInt(value.values.length));
      if (value.itemType === 'string') for (const s of value.values) out.string(s);
      else if (value.itemType === 'bool') for (const b of value.values) out.u8(b ? 1 : 0);
      else for (const n of value.values) out.number(value.itemType, n, key);
      return;
    default:
      out.number(value.type, value.value, key);
  }
}

function tensorBytes(t: GgufTensor): number {
  return t.data.length * (t.type === 'F16' ? 2 : 4);
}

function checkTensor(t: GgufTensor, seen: Set<string>): void {
  const nameBytes = Buffer.byteLength(t.name, 'utf8');
  if (nameBytes === 0 || nameBytes > MAX_TENSOR_NAME_BYTES) throw new GgufWriteError(`tensor name '${t.name}' must be 1-${MAX_TENSOR_NAME_BYTES} bytes`);
  if (seen.has(t.name)) throw new GgufWriteError(`duplicate tensor '${t.name}'`);
  seen.add(t.name);
  if (t.dims.length < 1 || t.dims.length > 4) throw new GgufWriteError(`tensor '${t.name}' has ${t.dims.length} dimensions; ggml allows 1-4`);
  let count = 1;
  for (const d of t.dims) {
    if (!Number.isSafeInteger(d) || d < 1) throw new GgufWriteError(`tensor '${t.name}' has an invalid dimension ${d}`);
    count *= d;
  }
  if (count !== t.data.length) throw new GgufWriteError(`tensor '${t.name}' has ${t.data.length} values but dims [${t.dims.join(', ')}] need ${count}`);
}

/** The GGUF file as bytes. Throws GgufWriteError for anything llama.cpp would reject or misread. */
export function encodeGguf(file: GgufFile): Buffer {
  const alignment = file.alignment ?? GGUF_DEFAULT_ALIGNMENT;
  if (!Number.isInteger(alignment) || alignment < 1 || alignment > 0xffffffff || (alignment & (alignment - 1)) !== 0) {
    throw new GgufWriteError(`alignment ${alignment} is not a power of two`);
  }
  const metadata: Array<readonly [string, GgufValue]> = [...file.metadata];
  const keys = new Set<string>();
  for (const [key] of metadata) {
    if (key.length === 0) throw new GgufWriteError('empty metadata key');
    if (keys.has(key)) throw new GgufWriteError(`duplicate metadata key '${key}'`);
    if (key === 'general.alignment') throw new GgufWriteError('set the alignment with the `alignment` option, not as metadata');
    keys.add(key);
  }
  if (alignment !== GGUF_DEFAULT_ALIGNMENT) metadata.push(['general.alignment', kv.u32(alignment)]);
  const names = new Set<string>();
  for (const t of file.tensors) checkTensor(t, names);

  const out = new Sink();
  out.u32(GGUF_MAGIC);
  out.u32(GGUF_VERSION);
  out.u64(BigInt(file.tensors.length));
  out.u64(BigInt(metadata.length));
  for (const [key, value] of metadata) {
    out.string(key);
    writeValue(out, key, value);
  }
  let offset = 0;
  for (const t of file.tensors) {
    out.string(t.name);
    out.u32(t.dims.length);
    for (const d of t.dims) out.u64(BigInt(d));
    out.u32(GGML_TYPE[t.type]);
    out.u64(BigInt(offset));
    offset += tensorBytes(t);
    offset += (alignment - (offset % alignment)) % alignment;
  }
  out.pad(alignment);
  for (const t of file.tensors) {
    const bytes = Buffer.alloc(tensorBytes(t));
    if (t.type === 'F16') for (let i = 0; i < t.data.length; i++) bytes.writeUInt16LE(float32ToFloat16Bits(t.data[i]!), i * 2);
    else for (let i = 0; i < t.data.length; i++) bytes.writeFloatLE(t.data[i]!, i * 4);
    out.bytes(bytes);
    out.pad(alignment);
  }
  return out.result();
}

export function writeGguf(path: string, file: GgufFile): number {
  const bytes = encodeGguf(file);
  writeFileSync(path, bytes);
  return bytes.length;
}
