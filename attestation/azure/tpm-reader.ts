import { AttestationError, type AttestationErrorCode } from '../errors.js';

/**
 * A bounds-checked big-endian cursor over a TPM structure. Every read past the end, and every TPM2B whose
 * size exceeds its type's buffer, throws `code` instead of yielding short data.
 */
export class TpmReader {
  private offset = 0;

  constructor(
    private readonly buf: Buffer,
    private readonly code: AttestationErrorCode,
    private readonly what: string,
  ) {}

  get position(): number {
    return this.offset;
  }

  u8(field: string): number {
    return this.take(1, field).readUInt8(0);
  }

  u16(field: string): number {
    return this.take(2, field).readUInt16BE(0);
  }

  u32(field: string): number {
    return this.take(4, field).readUInt32BE(0);
  }

  u64(field: string): bigint {
    return this.take(8, field).readBigUInt64BE(0);
  }

  /** A TPM2B: u16 size, then that many bytes (at most `max`, the size of the type's buffer). */
  tpm2b(field: string, max: number): Buffer {
    const size = this.u16(`${field}.size`);
    if (size > max) this.fail(`${field} declares ${size} bytes; its buffer holds at most ${max}`);
    return Buffer.from(this.take(size, field));
  }

  bytes(length: number, field: string): Buffer {
    return Buffer.from(this.take(length, field));
  }

  /** Structures are parsed whole: a signed blob with bytes after its last field is refused. */
  end(): void {
    if (this.offset !== this.buf.length) this.fail(`${this.buf.length - this.offset} unexpected bytes after the end of the structure`);
  }

  fail(message: string): never {
    throw new AttestationError(this.code, `${this.what}: ${message}`);
  }

  private take(length: number, field: string): Buffer {
    if (this.offset + length > this.buf.length) this.fail(`truncated in ${field} (needs ${length} bytes at offset ${this.offset}, ${this.buf.length - this.offset} left)`);
    const out = this.buf.subarray(this.offset, this.offset + length);
    this.offset += length;
    return out;
  }
}
