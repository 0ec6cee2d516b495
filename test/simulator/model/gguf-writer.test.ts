import { describe, expect, it } from 'vitest';
import { GgufWriteError, characterVocabulary, encodeCharacters, encodeGguf, float16BitsToFloat32, float32ToFloat16Bits, kv } from '../../../simulator/model/index.js';
import { readGguf, tensorValues } from './gguf-reader.js';

describe('GGUF writer', () => {
  it('writes a minimal file byte for byte as the GGUF v3 layout prescribes', () => {
    const bytes = encodeGguf({ metadata: [['a', kv.u32(1)]], tensors: [{ name: 't', dims: [2], type: 'F32', data: new Float32Array([1, -2]) }] });
    const expected = Buffer.concat([
      Buffer.from('GGUF', 'latin1'),
      Buffer.from('03000000', 'hex'), // version 3
      Buffer.from('0100000000000000', 'hex'), // one tensor
      Buffer.from('0100000000000000', 'hex'), // one key
      Buffer.from('0100000000000000', 'hex'), Buffer.from('a'), Buffer.from('04000000', 'hex'), Buffer.from('01000000', 'hex'), // a: uint32 1
      Buffer.from('0100000000000000', 'hex'), Buffer.from('t'), // tensor name
      Buffer.from('01000000', 'hex'), Buffer.from('0200000000000000', 'hex'), // 1 dim: 2
      Buffer.from('00000000', 'hex'), Buffer.from('0000000000000000', 'hex'), // F32, offset 0
      Buffer.alloc(96 - 74), // header is 74 bytes; data starts at the next multiple of 32
      Buffer.from('0000803f000000c0', 'hex'), // 1.0f, -2.0f
      Buffer.alloc(128 - 104), // the last tensor is padded too, as ggml writes it
    ]);
    expect(bytes.toString('hex')).toBe(expected.toString('hex'));
  });

  it('round-trips every metadata type, arrays, F32/F16 tensors and a non-default alignment', () => {
    const f32 = new Float32Array(3 * 5).map((_, i) => i / 7 - 1);
    const f16 = new Float32Array(4 * 3).map((_, i) => (i - 6) * 0.25);
    const bytes = encodeGguf({
      alignment: 64,
      metadata: [
        ['general.architecture', kv.str('llama')],
        ['u8', { type: 'uint8', value: 255 }],
        ['i8', { type: 'int8', value: -128 }],
        ['u16', { type: 'uint16', value: 65535 }],
        ['i16', { type: 'int16', value: -32768 }],
        ['u32', kv.u32(0xffffffff)],
        ['i32', kv.i32(-5)],
        ['f32', kv.f32(0.5)],
        ['f64', { type: 'float64', value: Math.PI }],
        ['u64', kv.u64(2n ** 64n - 1n)],
        ['i64', { type: 'int64', value: -(2n ** 63n) }],
        ['yes', kv.bool(true)],
        ['words', kv.strings(['▁', '<0x0A>', ''])],
        ['scores', kv.f32s([0, -1.5])],
        ['types', kv.i32s([1, 6, -3])],
        ['flags', { type: 'array', itemType: 'bool', values: [true, false] }],
      ],
      tensors: [
        { name: 'a.weight', dims: [5, 3], type: 'F32', data: f32 },
        { name: 'b.weight', dims: [3, 4], type: 'F16', data: f16 },
        { name: 'c', dims: [1], type: 'F32', data: new Float32Array([7]) },
      ],
    });
    const g = readGguf(bytes);
    expect(g.version).toBe(3);
    expect(g.alignment).toBe(64);
    const m = Object.fromEntries([...g.metadata].map(([k, v]) => [k, v.value]));
    expect(m).toEqual({
      'general.architecture': 'llama', u8: 255, i8: -128, u16: 65535, i16: -32768, u32: 0xffffffff, i32: -5, f32: 0.5, f64: Math.PI,
      u64: 2n ** 64n - 1n, i64: -(2n ** 63n), yes: true, words: ['▁', '<0x0A>', ''], scores: [0, -1.5], types: [1, 6, -3], flags: [true, false],
      'general.alignment': 64,
    });
    expect(g.metadata.get('general.alignment')?.type).toBe(4);
    expect(g.tensors.map((t) => [t.name, t.dims, t.type, t.offset])).toEqual([
      ['a.weight', [5, 3], 0, 0],
      ['b.weight', [3, 4], 1, 64],
      ['c', [1], 0, 128],
    ]);
    expect(g.dataStart % 64).toBe(0);
    expect(bytes.length).toBe(g.dataStart + 192);
    expect(tensorValues(bytes, g.tensors[0]!)).toEqual([...f32]);
    expect(tensorValues(bytes, g.tensors[1]!)).toEqual([...f16]); // quarter steps are exact in F16
    expect(tensorValues(bytes, g.tensors[2]!)).toEqual([7]);
  });

  it('refuses input llama.cpp would reject or misread', () => {
    const t = { name: 't', dims: [2], type: 'F32' as const, data: new Float32Array(2) };
    const bad: Array<Parameters<typeof encodeGguf>[0]> = [
      { metadata: [['k', kv.u32(1)], ['k', kv.u32(2)]], tensors: [] },
      { metadata: [['k', kv.u32(-1)]], tensors: [] },
      { metadata: [['k', kv.i32s([1.5])]], tensors: [] },
      { metadata: [['general.alignment', kv.u32(64)]], tensors: [] },
      { metadata: [], tensors: [{ ...t, dims: [3] }] },
      { metadata: [], tensors: [t, t] },
      { metadata: [], tensors: [{ ...t, name: 'x'.repeat(64) }] },
      { metadata: [], tensors: [{ ...t, dims: [1, 1, 1, 1, 2] }] },
      { metadata: [], tensors: [t], alignment: 48 },
    ];
    for (const file of bad) expect(() => encodeGguf(file)).toThrow(GgufWriteError);
  });

  it('converts to F16 with round-to-nearest-even, matching numpy', () => {
    const cases: Array<[number, number]> = [
      [1, 0x3c00], [-2, 0xc000], [0.1, 0x2e66], [1 / 3, 0x3555], [65504, 0x7bff], [65519.98828125, 0x7bff], [65520, 0x7c00],
      [2 ** -24, 0x0001], [2 ** -25, 0x0000], [2.9805303114471826e-8, 0x0001], [2 ** -14, 0x0400], [6.1e-5, 0x03ff], [1e-8, 0],
      [0, 0], [-0, 0x8000], [1 + 2 ** -11, 0x3c00], [1 + 3 * 2 ** -11, 0x3c02], [Number.POSITIVE_INFINITY, 0x7c00], [-1e9, 0xfc00],
    ];
    for (const [v, bits] of cases) expect([v, float32ToFloat16Bits(v)]).toEqual([v, bits]);
    expect(float32ToFloat16Bits(Number.NaN) & 0x7e00).toBe(0x7e00);
    for (const bits of [0x0001, 0x03ff, 0x0400, 0x3c00, 0x7bff, 0xc000, 0x3555]) expect(float32ToFloat16Bits(float16BitsToFloat32(bits))).toBe(bits);
  });
});

describe('character vocabulary', () => {
  it('has the SentencePiece layout llama.cpp expects', () => {
    const v = characterVocabulary();
    expect(v.tokens.length).toBe(3 + 256 + 95);
    expect(v.tokens.slice(0, 4)).toEqual(['<unk>', '<s>', '</s>', '<0x00>']);
    expect(v.tokens[13]).toBe('<0x0A>');
    expect(v.tokens[258]).toBe('<0xFF>');
    expect(v.tokens[259]).toBe('▁');
    expect(new Set(v.tokens).size).toBe(v.tokens.length);
    expect([v.tokenTypes[0], v.tokenTypes[1], v.tokenTypes[3], v.tokenTypes[259]]).toEqual([2, 3, 6, 1]);
    expect(encodeCharacters('A b\né')).toEqual([259 + 33, 259, 259 + 66, 3 + 10, 3 + 0xc3, 3 + 0xa9]);
  });
});
