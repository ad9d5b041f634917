// The model shared by vae-shard, vae-average, vae-sample and meme: a conditional variational
// autoencoder over 32×32 grey images (examples/data/sketches.ts), conditioned on the subject. The
// encoder reads an image and its subject (one-hot) through a hidden layer of ReLU units to the mean
// and log-variance of a latent Gaussian; the decoder reads a latent point and a subject through a
// hidden layer of ReLU units to a probability per pixel (a sigmoid). To draw a subject, the decoder
// runs on a latent point drawn from the seed. Everything is f64 IEEE arithmetic and
// AssemblyScript's software Math.exp, so a model's bytes and its pictures are the same on every
// machine.
//
// Model format (little-endian):
//   "FOGV", u32 pixels d, u32 subjects c, u32 hidden h, u32 latent z, u32 largest pixel value
//   f64 encoder: we[h][d + c], be[h], wm[z][h], bm[z], wv[z][h], bv[z]
//   f64 decoder: wd[h][z + c], bd[h], wo[d][h], bo[d]
//   then the measures (24 bytes): f64 mean training loss, u32 trained samples,
//   f64 mean held-out loss, u32 held-out samples (0 and 0 from a shard)
// A loss is the negative evidence lower bound of one image in nats: the pixels' binary
// cross-entropy plus the latent's KL divergence from the standard normal.

import { Rng } from "./mlp";

export const MAGIC: u32 = 0x56474f46; // "FOGV"
export const HEADER: i32 = 24;
export const MEASURES: i32 = 24;

export class Vae {
  d: i32; c: i32; h: i32; z: i32; maxValue: u32;
  we: Float64Array; be: Float64Array; wm: Float64Array; bm: Float64Array; wv: Float64Array; bv: Float64Array;
  wd: Float64Array; bd: Float64Array; wo: Float64Array; bo: Float64Array;
  // one sample's activations, allocated once (the stub runtime never frees)
  x: Float64Array; hidden: Float64Array; mu: Float64Array; logVar: Float64Array; eps: Float64Array;
  latent: Float64Array; dHidden: Float64Array; out: Float64Array;

  /** A model of these sizes, all zero; without `encoder`, its encoder's arrays are empty (to draw only). */
  constructor(d: i32, c: i32, h: i32, z: i32, maxValue: u32, encoder: bool = true) {
    this.d = d; this.c = c; this.h = h; this.z = z; this.maxValue = maxValue;
    const e = encoder ? 1 : 0;
    this.we = new Float64Array(e * h * (d + c)); this.be = new Float64Array(e * h);
    this.wm = new Float64Array(e * z * h); this.bm = new Float64Array(e * z);
    this.wv = new Float64Array(e * z * h); this.bv = new Float64Array(e * z);
    this.wd = new Float64Array(h * (z + c)); this.bd = new Float64Array(h);
    this.wo = new Float64Array(d * h); this.bo = new Float64Array(d);
    this.x = new Float64Array(d); this.hidden = new Float64Array(h);
    this.mu = new Float64Array(z); this.logVar = new Float64Array(z); this.eps = new Float64Array(z);
    this.latent = new Float64Array(z); this.dHidden = new Float64Array(h); this.out = new Float64Array(d);
  }

  /** Every weight array, encoder then decoder, in the order of the format. */
  arrays(): Float64Array[] {
    return [this.we, this.be, this.wm, this.bm, this.wv, this.bv, this.wd, this.bd, this.wo, this.bo];
  }

  /** Bytes of a model of these sizes: the header and the weights, without the measures. */
  static sizeOf(d: i64, c: i64, h: i64, z: i64): i64 {
    return HEADER + 8 * (h * (d + c) + h + 2 * (z * h + z) + h * (z + c) + h + d * h + d);
  }

  byteSize(): i32 {
    return <i32>Vae.sizeOf(this.d, this.c, this.h, this.z);
  }

  /** Loads pixels (bytes 0..maxValue) into `x`, scaled to 0..1. */
  load(bytes: Uint8Array, at: i32): void {
    const scale = 1.0 / <f64>this.maxValue;
    for (let i = 0; i < this.d; i++) unchecked(this.x[i] = <f64>bytes[at + i] * scale);
  }

  /** The encoder on `x` and `subject`: fills `hidden`, `mu` and `logVar`. */
  encode(subject: i32): void {
    const d = this.d, row = d + this.c, h = this.h, z = this.z;
    const x = this.x, we = this.we;
    for (let j = 0; j < h; j++) {
      const o = j * row;
      let s = unchecked(this.be[j]) + unchecked(we[o + d + subject]);
      for (let i = 0; i < d; i++) s += unchecked(we[o + i]) * unchecked(x[i]);
      unchecked(this.hidden[j] = s > 0 ? s : 0);
    }
    for (let k = 0; k < z; k++) {
      let m = unchecked(this.bm[k]), v = unchecked(this.bv[k]);
      const o = k * h;
      for (let j = 0; j < h; j++) {
        const a = unchecked(this.hidden[j]);
        m += unchecked(this.wm[o + j]) * a;
        v += unchecked(this.wv[o + j]) * a;
      }
      unchecked(this.mu[k] = m);
      // clamped, so that exp stays finite whatever the weights
      unchecked(this.logVar[k] = v < -20 ? -20 : v > 20 ? 20 : v);
    }
  }

  /** The decoder on `latent` and `subject`: fills `dHidden` (its hidden layer) and `out` (0..1 per pixel). */
  decode(subject: i32): void {
    const d = this.d, h = this.h, z = this.z, row = z + this.c;
    for (let j = 0; j < h; j++) {
      const o = j * row;
      let s = unchecked(this.bd[j]) + unchecked(this.wd[o + z + subject]);
      for (let k = 0; k < z; k++) s += unchecked(this.wd[o + k]) * unchecked(this.latent[k]);
      unchecked(this.dHidden[j] = s > 0 ? s : 0);
    }
    const wo = this.wo, hd = this.dHidden;
    for (let i = 0; i < d; i++) {
      const o = i * h;
      let s = unchecked(this.bo[i]);
      for (let j = 0; j < h; j++) s += unchecked(wo[o + j]) * unchecked(hd[j]);
      unchecked(this.out[i] = sigmoid(s));
    }
  }

  /** The loss of the image in `x` as encoded and decoded (`out`), against the latent's KL term. */
  loss(): f64 {
    let l = 0.0;
    for (let i = 0; i < this.d; i++) {
      const t = unchecked(this.x[i]);
      const p = clampP(unchecked(this.out[i]));
      l -= t * Math.log(p) + (1 - t) * Math.log(1 - p);
    }
    for (let k = 0; k < this.z; k++) {
      const m = unchecked(this.mu[k]), v = unchecked(this.logVar[k]);
      l += 0.5 * (m * m + Math.exp(v) - 1 - v);
    }
    return l;
  }

  /** The held-out measure: the loss of the image at `data[at..]` decoded from its mean (no noise). */
  meanLoss(data: Uint8Array, at: i32, subject: i32): f64 {
    this.load(data, at);
    this.encode(subject);
    for (let k = 0; k < this.z; k++) unchecked(this.latent[k] = this.mu[k]);
    this.decode(subject);
    return this.loss();
  }

  /** True if every weight is a finite number (no NaN, whose bits would differ between CPUs). */
  finite(): bool {
    const all = this.arrays();
    for (let a = 0; a < all.length; a++) {
      const w = all[a];
      for (let i = 0; i < w.length; i++) if (!isFinite(w[i])) return false;
    }
    return true;
  }

  /** Writes the header and weights at `view[at..]`; returns the offset after them. */
  write(view: DataView, at: i32): i32 {
    view.setUint32(at, MAGIC, true);
    view.setUint32(at + 4, this.d, true);
    view.setUint32(at + 8, this.c, true);
    view.setUint32(at + 12, this.h, true);
    view.setUint32(at + 16, this.z, true);
    view.setUint32(at + 20, this.maxValue, true);
    at += HEADER;
    const all = this.arrays();
    for (let a = 0; a < all.length; a++) {
      const w = all[a];
      for (let i = 0; i < w.length; i++) view.setFloat64(at + 8 * i, w[i], true);
      at += 8 * w.length;
    }
    return at;
  }

  /** Reads a model written by `write` from `view[at..]`; aborts on anything else. */
  static read(view: DataView, at: i32): Vae {
    assert(view.byteLength - at >= HEADER, "not a Fog VAE: too short");
    assert(view.getUint32(at, true) == MAGIC, "not a Fog VAE: no FOGV header");
    const d = <i32>view.getUint32(at + 4, true), c = <i32>view.getUint32(at + 8, true);
    const h = <i32>view.getUint32(at + 12, true), z = <i32>view.getUint32(at + 16, true);
    assert(d >= 1 && d <= 4096 && c >= 1 && c <= 256 && h >= 1 && h <= 1024 && z >= 1 && z <= 256, "not a Fog VAE: sizes out of range");
    // the length first: a header must not make us allocate weights that are not there
    assert(<i64>view.byteLength - at >= Vae.sizeOf(d, c, h, z), "not a Fog VAE: truncated weights");
    const m = new Vae(d, c, h, z, view.getUint32(at + 20, true));
    assert(m.maxValue >= 1, "not a Fog VAE: zero pixel range");
    at += HEADER;
    const all = m.arrays();
    for (let a = 0; a < all.length; a++) {
      const w = all[a];
      for (let i = 0; i < w.length; i++) w[i] = view.getFloat64(at + 8 * i, true);
      at += 8 * w.length;
    }
    assert(m.finite(), "not a Fog VAE: a weight is not a finite number");
    return m;
  }
}

/**
 * Checks that every pixel of the `count` samples of the dataset at `data[at..]` (already checked
 * by lib/mlp.ts's checkDataset: d pixels and a label each) is within its largest value; aborts
 * with `what` otherwise (a pixel above it would make the loss negative).
 */
export function checkPixels(data: Uint8Array, at: i32, count: i32, d: i32, what: string): void {
  const top = data[at + 7];
  for (let s = 0; s < count; s++) {
    const row = at + 8 + s * (d + 1);
    for (let i = 0; i < d; i++) assert(unchecked(data[row + i]) <= top, what + ": a pixel above the dataset's largest value");
  }
}

export function sigmoid(s: f64): f64 {
  return 1.0 / (1.0 + Math.exp(-s));
}

function clampP(p: f64): f64 {
  return p < 1e-12 ? 1e-12 : p > 1 - 1e-12 ? 1 - 1e-12 : p;
}

/** An approximately standard-normal number from `rng`: the sum of twelve uniforms, less 6. */
export function gaussian(rng: Rng): f64 {
  let s = 0.0;
  for (let i = 0; i < 12; i++) s += rng.uniform();
  return s - 6.0;
}

function fill(w: Float64Array, fanIn: i32, fanOut: i32, rng: Rng): void {
  const r = Math.sqrt(6.0 / <f64>(fanIn + fanOut));
  for (let i = 0; i < w.length; i++) w[i] = (2.0 * rng.uniform() - 1.0) * r;
}

/** Glorot-uniform initial weights from `rng`, zero biases. */
export function initVae(m: Vae, rng: Rng): void {
  fill(m.we, m.d + m.c, m.h, rng);
  fill(m.wm, m.h, m.z, rng);
  fill(m.wv, m.h, m.z, rng);
  fill(m.wd, m.z + m.c, m.h, rng);
  fill(m.wo, m.h, m.d, rng);
}

/**
 * Trains `m` with Adam (moments from zero) in mini-batches of `batch` for `epochs` passes over the
 * first `count` samples at `data[at..]` (pixels, then the subject byte: rows of d + 1), in an order
 * `rng` shuffles afresh each epoch, at learning rate `rate`; the latent noise comes from `rng` too.
 * Returns the mean loss of the last epoch.
 */
export function train(m: Vae, data: Uint8Array, at: i32, count: i32, epochs: i32, batch: i32, rate: f64, rng: Rng): f64 {
  const d = m.d, c = m.c, h = m.h, z = m.z, row = d + 1, er = d + c, dr = z + c;
  const params = m.arrays();
  const grads = new Array<Float64Array>(params.length);
  const first = new Array<Float64Array>(params.length);
  const second = new Array<Float64Array>(params.length);
  for (let a = 0; a < params.length; a++) {
    grads[a] = new Float64Array(params[a].length);
    first[a] = new Float64Array(params[a].length);
    second[a] = new Float64Array(params[a].length);
  }
  const gwe = grads[0], gbe = grads[1], gwm = grads[2], gbm = grads[3], gwv = grads[4], gbv = grads[5];
  const gwd = grads[6], gbd = grads[7], gwo = grads[8], gbo = grads[9];
  const order = new Int32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  const dDec = new Float64Array(h), dLatent = new Float64Array(z), dEnc = new Float64Array(h);
  let steps = 0;
  let last = 0.0;
  for (let e = 0; e < epochs; e++) {
    for (let i = count - 1; i > 0; i--) {
      const j = <i32>(rng.next() % <u64>(i + 1));
      const t = order[i]; order[i] = order[j]; order[j] = t;
    }
    let total = 0.0;
    for (let b = 0; b < count; b += batch) {
      const n = min(batch, count - b);
      for (let t = b; t < b + n; t++) {
        const s = at + unchecked(order[t]) * row;
        const subject = <i32>data[s + d];
        m.load(data, s);
        m.encode(subject);
        for (let k = 0; k < z; k++) {
          const eps = gaussian(rng);
          unchecked(m.eps[k] = eps);
          unchecked(m.latent[k] = m.mu[k] + Math.exp(0.5 * m.logVar[k]) * eps);
        }
        m.decode(subject);
        total += m.loss();
        // the decoder's output layer: d(loss)/d(logit) = p − x
        dDec.fill(0);
        for (let i = 0; i < d; i++) {
          const g = unchecked(m.out[i]) - unchecked(m.x[i]);
          unchecked(gbo[i] += g);
          const o = i * h;
          for (let j = 0; j < h; j++) {
            unchecked(gwo[o + j] += g * m.dHidden[j]);
            unchecked(dDec[j] += g * m.wo[o + j]);
          }
        }
        // the decoder's hidden layer, and the gradient reaching the latent point
        dLatent.fill(0);
        for (let j = 0; j < h; j++) {
          if (unchecked(m.dHidden[j]) <= 0) continue;
          const g = unchecked(dDec[j]);
          const o = j * dr;
          unchecked(gbd[j] += g);
          for (let k = 0; k < z; k++) {
            unchecked(gwd[o + k] += g * m.latent[k]);
            unchecked(dLatent[k] += g * m.wd[o + k]);
          }
          unchecked(gwd[o + z + subject] += g);
        }
        // the latent layer: reparameterized, plus the KL term's own gradient
        dEnc.fill(0);
        for (let k = 0; k < z; k++) {
          const v = unchecked(m.logVar[k]);
          const gm = unchecked(dLatent[k]) + unchecked(m.mu[k]);
          const gv = unchecked(dLatent[k]) * unchecked(m.eps[k]) * 0.5 * Math.exp(0.5 * v) + 0.5 * (Math.exp(v) - 1);
          unchecked(gbm[k] += gm);
          unchecked(gbv[k] += gv);
          const o = k * h;
          for (let j = 0; j < h; j++) {
            const a = unchecked(m.hidden[j]);
            unchecked(gwm[o + j] += gm * a);
            unchecked(gwv[o + j] += gv * a);
            unchecked(dEnc[j] += gm * m.wm[o + j] + gv * m.wv[o + j]);
          }
        }
        // the encoder's hidden layer (zero pixels add nothing)
        for (let j = 0; j < h; j++) {
          if (unchecked(m.hidden[j]) <= 0) continue;
          const g = unchecked(dEnc[j]);
          const o = j * er;
          unchecked(gbe[j] += g);
          for (let i = 0; i < d; i++) {
            const x = unchecked(m.x[i]);
            if (x != 0) unchecked(gwe[o + i] += g * x);
          }
          unchecked(gwe[o + d + subject] += g);
        }
      }
      // one Adam step on the batch's mean gradient
      steps++;
      const step = rate * Math.sqrt(1 - Math.pow(0.999, <f64>steps)) / (1 - Math.pow(0.9, <f64>steps));
      const inv = 1.0 / <f64>n;
      for (let a = 0; a < params.length; a++) {
        const p = params[a], g = grads[a], m1 = first[a], m2 = second[a];
        for (let i = 0; i < p.length; i++) {
          const gi = unchecked(g[i]) * inv;
          const f = 0.9 * unchecked(m1[i]) + 0.1 * gi;
          const q = 0.999 * unchecked(m2[i]) + 0.001 * gi * gi;
          unchecked(m1[i] = f);
          unchecked(m2[i] = q);
          unchecked(p[i] -= step * f / (Math.sqrt(q) + 1e-8));
          unchecked(g[i] = 0);
        }
      }
    }
    last = total / <f64>count;
  }
  return last;
}

/**
 * Draws `subject` from the seed: the decoder on a latent point of standard-normal coordinates
 * scaled by `temperature`; writes d pixels (0..255) at `image[at..]`.
 */
export function draw(m: Vae, subject: i32, rng: Rng, temperature: f64, image: Uint8Array, at: i32): void {
  for (let k = 0; k < m.z; k++) unchecked(m.latent[k] = gaussian(rng) * temperature);
  m.decode(subject);
  for (let i = 0; i < m.d; i++) image[at + i] = <u8>Math.floor(unchecked(m.out[i]) * 255.0 + 0.5);
}

/** The model and its measures, in the model format; `what` names the program in a failure. */
export function vaeBytes(m: Vae, trainLoss: f64, trained: i32, heldOutLoss: f64, heldOut: i32, what: string): Uint8Array {
  // a diverged network would write NaNs, whose bits differ between CPUs: fail the same way everywhere
  assert(m.finite() && isFinite(trainLoss) && isFinite(heldOutLoss), what + ": weights not finite (training diverged: lower the learning rate)");
  const out = new Uint8Array(m.byteSize() + MEASURES);
  const w = new DataView(out.buffer);
  const at = m.write(w, 0);
  w.setFloat64(at, trainLoss, true);
  w.setUint32(at + 8, trained, true);
  w.setFloat64(at + 12, heldOutLoss, true);
  w.setUint32(at + 20, heldOut, true);
  return out;
}
