// A minimal protobuf *writer* for the handful of ONNX messages we emit.
// Why hand-written rather than a generated protobuf library: we only ever write (never parse) about ten
// message types, weights must be appended by reference without copying (a model's initializers can be
// gigabytes; protobufjs-style builders copy every bytes field into one growing buffer), and the engine
// stays dependency-free and bundle-friendly. Field numbers come from onnx/onnx.proto (ONNX 1.17+).

const enum Wire {
  Varint = 0,
  Len = 2,
  I32 = 5,
}

export class PbWriter {
  private parts: Uint8Array[] = [];
  private buf: number[] = [];
  private size = 0;

  get length(): number {
    return this.size + this.buf.length;
  }

  private flush(): void {
    if (this.buf.length) {
      this.parts.push(Uint8Array.from(this.buf));
      this.size += this.buf.length;
      this.buf = [];
    }
  }

  private varint(n: number | bigint): void {
    if (typeof n === "number" && n >= 0 && n <= Number.MAX_SAFE_INTEGER) {
      while (n >= 0x80) {
        this.buf.push((n % 0x80) | 0x80);
        n = Math.floor(n / 0x80);
      }
      this.buf.push(n);
      return;
    }
    // negative int64: two's complement over 64 bits (always 10 bytes)
    let b = BigInt.asUintN(64, BigInt(n));
    while (b >= 0x80n) {
      this.buf.push(Number(b & 0x7fn) | 0x80);
      b >>= 7n;
    }
    this.buf.push(Number(b));
  }

  private tag(field: number, wire: Wire): void {
    this.varint(field * 8 + wire);
  }

  int(field: number, v: number | bigint): this {
    if (typeof v === "number" && !Number.isInteger(v))
      throw new Error(`protobuf field ${field}: ${v} is not an integer`);
    this.tag(field, Wire.Varint);
    this.varint(v);
    return this;
  }
  ints(field: number, vs: readonly number[]): this {
    for (const v of vs) this.int(field, v);
    return this;
  }
  float(field: number, v: number): this {
    this.tag(field, Wire.I32);
    const b = new Uint8Array(new Float32Array([v]).buffer);
    for (const x of b) this.buf.push(x);
    return this;
  }
  string(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }
  /** Appends bytes by reference (no copy until the final concatenation). */
  bytes(field: number, data: Uint8Array): this {
    this.tag(field, Wire.Len);
    this.varint(data.byteLength);
    this.flush();
    this.parts.push(data);
    this.size += data.byteLength;
    return this;
  }
  message(field: number, m: PbWriter): this {
    this.tag(field, Wire.Len);
    this.varint(m.length);
    this.flush();
    m.flush();
    // a loop, not push(...m.parts): a real model's graph has hundreds of thousands of parts, past the
    // engine's argument-count limit (RangeError: Maximum call stack size exceeded)
    for (const p of m.parts) this.parts.push(p);
    this.size += m.size;
    return this;
  }
  finish(): Uint8Array {
    this.flush();
    const out = new Uint8Array(this.size);
    let off = 0;
    for (const p of this.parts) {
      out.set(p, off);
      off += p.byteLength;
    }
    return out;
  }
}
