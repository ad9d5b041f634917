// mlp-train: trains a small neural network (one hidden ReLU layer, softmax output; lib/mlp.ts) by
// stochastic gradient descent on a labelled dataset, then outputs the model: its weights and its
// accuracy on the training samples and on the held-out ones (the model format in lib/mlp.ts).
//
// Input (little-endian): u32 hidden units, u32 epochs, u32 learning rate in 1/10000ths (1..10000), u32 seed,
// u32 held-out percent (0..90), then a dataset in the format of examples/data/digits.ts:
//   u32 samples, u16 features, u8 classes, u8 largest feature value; per sample the feature bytes
//   and the label byte.
// The last `held-out percent` of the samples are never trained on; they measure the accuracy.
// The seed fixes the initial weights and the order of the samples in each epoch.
import { readInput, writeOutput } from "./fog";
import { Model } from "./lib/mlp";

/** xorshift64 */
let state: u64 = 1;
function next(): u64 {
  state ^= state << 13; state ^= state >> 7; state ^= state << 17;
  return state;
}
/** Uniform in [0, 1). */
function uniform(): f64 {
  return <f64>(next() >> 11) / 9007199254740992.0;
}

export function run(): void {
  const input = readInput();
  assert(input.length >= 28, "mlp-train: input shorter than its header");
  const view = new DataView(input.buffer, input.byteOffset, input.byteLength);
  const h = <i32>view.getUint32(0, true);
  const epochs = <i32>view.getUint32(4, true);
  const rate = <f64>view.getUint32(8, true) / 10000.0;
  state = <u64>view.getUint32(12, true) * 0x9E3779B97F4A7C15 + 1;
  const heldOutPercent = <i32>view.getUint32(16, true);
  const n = <i32>view.getUint32(20, true);
  const d = <i32>view.getUint16(24, true);
  const c = <i32>input[26];
  const maxValue = <u32>input[27];
  assert(h >= 1 && h <= 1024, "mlp-train: hidden units must be 1..1024");
  assert(epochs >= 1 && epochs <= 10000, "mlp-train: epochs must be 1..10000");
  assert(rate > 0 && rate <= 1.0, "mlp-train: learning rate must be 1..10000 ten-thousandths");
  assert(heldOutPercent >= 0 && heldOutPercent <= 90, "mlp-train: held-out percent must be 0..90");
  assert(d >= 1 && d <= 4096 && c >= 2 && maxValue >= 1, "mlp-train: bad dataset header");
  const row = d + 1;
  assert(<i64>input.length == 28 + <i64>n * row, "mlp-train: dataset length does not match its header");
  const trained = <i32>(<i64>n - <i64>n * heldOutPercent / 100);
  assert(trained >= 1, "mlp-train: no training samples");
  for (let s = 0; s < n; s++) assert(<i32>input[28 + s * row + d] < c, "mlp-train: label out of range");

  const m = new Model(d, h, c, maxValue);
  // Glorot-uniform initial weights, zero biases
  const r1 = Math.sqrt(6.0 / <f64>(d + h)), r2 = Math.sqrt(6.0 / <f64>(h + c));
  for (let i = 0; i < m.w1.length; i++) m.w1[i] = (2.0 * uniform() - 1.0) * r1;
  for (let i = 0; i < m.w2.length; i++) m.w2[i] = (2.0 * uniform() - 1.0) * r2;

  const order = new Int32Array(trained);
  for (let i = 0; i < trained; i++) order[i] = i;
  const dOut = new Float64Array(c);
  const dHidden = new Float64Array(h);
  for (let e = 0; e < epochs; e++) {
    for (let i = trained - 1; i > 0; i--) {
      const j = <i32>(next() % <u64>(i + 1));
      const t = order[i]; order[i] = order[j]; order[j] = t;
    }
    for (let t = 0; t < trained; t++) {
      const at = 28 + order[t] * row;
      m.load(input, at);
      m.forward();
      const label = <i32>input[at + d];
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

  // a diverged network would write NaNs, whose bits differ between CPUs: fail the same way everywhere
  assert(m.finite(), "mlp-train: training diverged (weights not finite): lower the learning rate");
  let trainRight = 0, testRight = 0;
  for (let s = 0; s < n; s++) {
    const at = 28 + s * row;
    m.load(input, at);
    if (m.forward() == <i32>input[at + d]) {
      if (s < trained) trainRight++; else testRight++;
    }
  }
  const out = new Uint8Array(m.byteSize() + 16);
  const w = new DataView(out.buffer);
  const at = m.write(w, 0);
  w.setUint32(at, trainRight, true);
  w.setUint32(at + 4, trained, true);
  w.setUint32(at + 8, testRight, true);
  w.setUint32(at + 12, n - trained, true);
  writeOutput(out);
}
