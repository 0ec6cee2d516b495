/**
 * An independent minimal GGUF v3 reader for the tests: it shares no code with simulator/model/gguf-writer.ts,
 * so a layout mistake in the writer cannot be mirrored here and pass unnoticed.
 */
import { float16BitsToFloat32 } from '../../../simulator/model/half.js';

export type ReadValue = number | bigint | boolean | string | ReadValue[];

export interface ReadTensor {
  name: string;
  dims: number[];
  type: number;
  offset: number;
  /** Absolute file offset of the data. */
  start: number;
}

export interface ReadGguf {
  version: number;
  metadata: Map<string, { type: number; value: ReadValue }>;
  tensors: ReadTensor[];
  alignment: number;
  dataStart: number;
}

export function readGguf(buf: Buffer, opts: { metadataOnly?: boolean } = {}): ReadGguf {
  let o = 0;
  const u32 = (): number => {
    const v = buf.readUInt32LE(o);
    o += 4;
    return v;
  };
  const u64 = (): bigint => {
    const v = buf.readBigUInt64LE(o);
    o += 8;
    return v;
  };
  const str = (): string => {
    const n = Number(u64());
    const s = buf.toString('utf8', o, o + n);
    o += n;
    return s;
  };
  const value = (type: number): ReadValue => {
    switch (type) {
      case 0: return buf.readUInt8(o++);
      case 1: return buf.readInt8(o++);
      case 2: o += 2; return buf.readUInt16LE(o - 2);
      case 3: o += 2; return buf.readInt16LE(o - 2);
      case 4: return u32();
      case 5: o += 4; return buf.readInt32LE(o - 4);
      case 6: o += 4; return buf.readFloatLE(o - 4);
      case 7: return buf.readUInt8(o++) !== 0;
      case 8: return str();
      case 9: {
        const itemType = u32();
        const n = Number(u64());
        return Array.from({ length: n }, () => value(itemType));
      }
      case 10: return u64();
      case 11: o += 8; return buf.readBigInt64LE(o - 8);
      case 12: o += 8; return buf.readDoubleLE(o - 8);
      default: throw new Error(`unknown GGUF value type ${type} at ${o}`);
    }
  };

  if (buf.toString('latin1', 0, 4) !== 'GGUF') throw new Error('not a GGUF file');
  o = 4;
  const version = u32();
  const nTensors = Number(u64());
  const nKv = Number(u64());
  const metadata = new Map<string, { type: number; value: ReadValue }>();
  for (let i = 0; i < nKv; i++) {
    const key = str();
    const type = u32();
    metadata.set(key, { type, value: value(type) });
  }
  const tensors: ReadTensor[] = [];
  const alignment = (metadata.get('general.alignment')?.value as number | undefined) ?? 32;
  if (opts.metadataOnly === true) return { version, metadata, tensors, alignment, dataStart: -1 };
  for (let i = 0; i < nTensors; i++) {
    const name = str();
    const nDims = u32();
    const dims = Array.from({ length: nDims }, () => Number(u64()));
    const type = u32();
    const offset = Number(u64());
    tensors.push({ name, dims, type, offset, start: 0 });
  }
  const dataStart = Math.ceil(o / alignment) * alignment;
  for (const t of tensors) t.start = dataStart + t.offset;
  return { version, metadata, tensors, alignment, dataStart };
}

export function tensorValues(buf: Buffer, t: ReadTensor): number[] {
  const count = t.dims.reduce((a, b) => a * b, 1);
  if (t.type === 0) return Array.from({ length: count }, (_, i) => buf.readFloatLE(t.start + i * 4));
  if (t.type === 1) return Array.from({ length: count }, (_, i) => float16BitsToFloat32(buf.readUInt16LE(t.start + i * 2)));
  throw new Error(`tensor type ${t.type} not supported by the test reader`);
}
