// The model shared by mlp-train and mlp-infer: a multilayer perceptron with one hidden layer of
// ReLU units and a softmax output, in f64. Every operation is IEEE arithmetic or AssemblyScript's
// software Math.exp, so a model's bytes and its predictions are the same on every machine.
//
// Model format (little-endian), what mlp-train outputs and mlp-infer reads:
//   "FOGM", u32 features d, u32 hidden h, u32 classes c, u32 largest feature value
//   f64 w1[h][d], f64 b1[h], f64 w2[c][h], f64 b2[c]
//   u32 training samples right, u32 training samples, u32 held-out right, u32 held-out samples

export const MAGIC: u32 = 0x4d474f46; // "FOGM"

export class Model {
  d: i32; h: i32; c: i32; maxValue: u32;
  w1: Float64Array; b1: Float64Array; w2: Float64Array; b2: Float64Array;
  // scratch for one sample, allocated once (the stub runtime never frees)
  x: Float64Array; hidden: Float64Array; out: Float64Array;

  constructor(d: i32, h: i32, c: i32, maxValue: u32) {
    this.d = d; this.h = h; this.c = c; this.maxValue = maxValue;
    this.w1 = new Float64Array(h * d); this.b1 = new Float64Array(h);
    this.w2 = new Float64Array(c * h); this.b2 = new Float64Array(c);
    this.x = new Float64Array(d); this.hidden = new Float64Array(h); this.out = new Float64Array(c);
  }

  /** Bytes of the model header and weights, without the accuracy counts. */
  byteSize(): i32 {
    return <i32>Model.sizeOf(this.d, this.h, this.c);
  }

  /** Bytes of a model of these sizes: the header, then w1, b1, w2 and b2 as f64. */
  static sizeOf(d: i64, h: i64, c: i64): i64 {
    return 20 + 8 * (h * d + h + c * h + c);
  }

  /** Loads features (bytes 0..maxValue) into `x`, scaled to 0..1. */
  load(bytes: Uint8Array, at: i32): void {
    const scale = 1.0 / <f64>this.maxValue;
    for (let i = 0; i < this.d; i++) this.x[i] = <f64>bytes[at + i] * scale;
  }

  /** Forward pass on `x`: hidden activations and class probabilities in `out`; returns the argmax. */
  forward(): i32 {
    const d = this.d, h = this.h, c = this.c;
    for (let j = 0; j < h; j++) {
      let s = this.b1[j];
      for (let i = 0; i < d; i++) s += this.w1[j * d + i] * this.x[i];
      this.hidden[j] = s > 0 ? s : 0;
    }
    let best = 0;
    for (let k = 0; k < c; k++) {
      let s = this.b2[k];
      for (let j = 0; j < h; j++) s += this.w2[k * h + j] * this.hidden[j];
      this.out[k] = s;
      if (s > this.out[best]) best = k;
    }
    const top = this.out[best];
    let sum = 0.0;
    for (let k = 0; k < c; k++) {
      const e = Math.exp(this.out[k] - top);
      this.out[k] = e;
      sum += e;
    }
    for (let k = 0; k < c; k++) this.out[k] /= sum;
    return best;
  }

  /** True if every weight is a finite number (no NaN, whose bits would differ between CPUs). */
  finite(): bool {
    return allFinite(this.w1) && allFinite(this.b1) && allFinite(this.w2) && allFinite(this.b2);
  }

  /** Writes the header and weights at `view[at..]`; returns the offset after them. */
  write(view: DataView, at: i32): i32 {
    view.setUint32(at, MAGIC, true);
    view.setUint32(at + 4, this.d, true);
    view.setUint32(at + 8, this.h, true);
    view.setUint32(at + 12, this.c, true);
    view.setUint32(at + 16, this.maxValue, true);
    at += 20;
    at = put(view, at, this.w1); at = put(view, at, this.b1);
    at = put(view, at, this.w2); at = put(view, at, this.b2);
    return at;
  }

  /** Reads a model written by `write` from `view[at..]`; aborts on anything else. */
  static read(view: DataView, at: i32): Model {
    assert(view.byteLength - at >= 20, "not a Fog model: too short");
    assert(view.getUint32(at, true) == MAGIC, "not a Fog model: no FOGM header");
    const d = <i32>view.getUint32(at + 4, true), h = <i32>view.getUint32(at + 8, true), c = <i32>view.getUint32(at + 12, true);
    assert(d >= 1 && d <= 4096 && h >= 1 && h <= 1024 && c >= 2 && c <= 256, "not a Fog model: sizes out of range");
    // the length first: a header must not make us allocate weights that are not there
    assert(<i64>view.byteLength - at >= Model.sizeOf(d, h, c), "not a Fog model: truncated weights");
    const m = new Model(d, h, c, view.getUint32(at + 16, true));
    assert(m.maxValue >= 1, "not a Fog model: zero feature range");
    at += 20;
    at = get(view, at, m.w1); at = get(view, at, m.b1);
    at = get(view, at, m.w2); get(view, at, m.b2);
    return m;
  }
}

/** xorshift64: the same sequence on every machine. */
export class Rng {
  state: u64;
  constructor(seed: u64) {
    this.state = seed * 0x9E3779B97F4A7C15 + 1;
  }
  next(): u64 {
    let s = this.state;
    s ^= s << 13; s ^= s >> 7; s ^= s << 17;
    this.state = s;
    return s;
  }
  /** Uniform in [0, 1). */
  uniform(): f64 {
    return <f64>(this.next() >> 11) / 9007199254740992.0;
  }
}

/** Glorot-uniform initial weights from `rng`, zero biases. */
export function initWeights(m: Model, rng: Rng): void {
  const r1 = Math.sqrt(6.0 / <f64>(m.d + m.h)), r2 = Math.sqrt(6.0 / <f64>(m.h + m.c));
  for (let i = 0; i < m.w1.length; i++) m.w1[i] = (2.0 * rng.uniform() - 1.0) * r1;
  for (let i = 0; i < m.w2.length; i++) m.w2[i] = (2.0 * rng.uniform() - 1.0) * r2;
}

/**
 * Trains `m` by stochastic gradient descent for `epochs` passes over the first `count` samples of
 * a dataset whose samples start at `data[at..]` (features, then the label byte: rows of d + 1),
 * in an order `rng` shuffles afresh each epoch, at learning rate `rate`.
 */
export function sgd(m: Model, data: Uint8Array, at: i32, count: i32, epochs: i32, rate: f64, rng: Rng): void {
  const d = m.d, h = m.h, c = m.c, row = d + 1;
  const order = new Int32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  const dOut = new Float64Array(c);
  const dHidden = new Float64Array(h);
  for (let e = 0; e < epochs; e++) {
    for (let i = count - 1; i > 0; i--) {
      const j = <i32>(rng.next() % <u64>(i + 1));
      const t = order[i]; order[i] = order[j]; order[j] = t;
    }
    for (let t = 0; t < count; t++) {
      const s = at + order[t] * row;
      m.load(data, s);
      m.forward();
      const label = <i32>data[s + d];
      // cross-entropy gradient at the softmax's input
      for (let k = 0; k < c; k++) dOut[k] = m.out[k] - (k == label ? 1.0 : 0.0);
      for (let j = 0; j < h; j++) {
        let g = 0.0;
        if (m.hidden[j] > 0) for (let k = 0; k < c; k++) g += m.w2[k * h + j] * dOut[k];
        dHidden[j] = g;
      }
      for (let k = 0; k < c; k++) {
        const g = rate * dOut[k];
        for (let j = 0; j < h; j++) m.w2[k * h + j] -= g * m.hidden[j];
        m.b2[k] -= g;
      }
      for (let j = 0; j < h; j++) {
        const g = rate * dHidden[j];
        if (g == 0) continue;
        for (let i = 0; i < d; i++) m.w1[j * d + i] -= g * m.x[i];
        m.b1[j] -= g;
      }
    }
  }
}

/** How many of `count` samples at `data[at..]` (rows of d + 1) the model classifies right. */
export function countRight(m: Model, data: Uint8Array, at: i32, count: i32): i32 {
  let right = 0;
  for (let s = 0; s < count; s++) {
    const r = at + s * (m.d + 1);
    m.load(data, r);
    if (m.forward() == <i32>data[r + m.d]) right++;
  }
  return right;
}

/** The model and its four accuracy counts, in the model format; `what` names the program in a failure. */
export function modelBytes(m: Model, trainRight: i32, trained: i32, heldOutRight: i32, heldOut: i32, what: string): Uint8Array {
  // a diverged network would write NaNs, whose bits differ between CPUs: fail the same way everywhere
  assert(m.finite(), what + ": weights not finite (training diverged: lower the learning rate)");
  const out = new Uint8Array(m.byteSize() + 16);
  const w = new DataView(out.buffer);
  const at = m.write(w, 0);
  w.setUint32(at, trainRight, true);
  w.setUint32(at + 4, trained, true);
  w.setUint32(at + 8, heldOutRight, true);
  w.setUint32(at + 12, heldOut, true);
  return out;
}

/**
 * Checks a dataset (the format of examples/data/digits.ts) at `data[at..at + length]`: its header
 * against a model of `d` features and `c` classes (0 for any), its length, its labels; returns its
 * sample count, or aborts with `what` in the message.
 */
export function checkDataset(data: Uint8Array, at: i32, length: i32, what: string): i32 {
  assert(length >= 8, what + ": dataset shorter than its header");
  const view = new DataView(data.buffer, data.byteOffset + at, length);
  const n = <i32>view.getUint32(0, true);
  const d = <i32>view.getUint16(4, true);
  const c = <i32>data[at + 6];
  assert(d >= 1 && d <= 4096 && c >= 2 && data[at + 7] >= 1, what + ": bad dataset header");
  assert(<i64>length == 8 + <i64>n * <i64>(d + 1), what + ": dataset length does not match its header");
  for (let s = 0; s < n; s++) assert(<i32>data[at + 8 + s * (d + 1) + d] < c, what + ": label out of range");
  return n;
}

function allFinite(a: Float64Array): bool {
  for (let i = 0; i < a.length; i++) if (!isFinite(a[i])) return false;
  return true;
}

function put(view: DataView, at: i32, a: Float64Array): i32 {
  for (let i = 0; i < a.length; i++) view.setFloat64(at + 8 * i, a[i], true);
  return at + 8 * a.length;
}

function get(view: DataView, at: i32, a: Float64Array): i32 {
  for (let i = 0; i < a.length; i++) a[i] = view.getFloat64(at + 8 * i, true);
  return at + 8 * a.length;
}
