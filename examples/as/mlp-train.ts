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
import { countRight, initWeights, Model, modelBytes, Rng, sgd } from "./lib/mlp";

export function run(): void {
  const input = readInput();
  assert(input.length >= 28, "mlp-train: input shorter than its header");
  const view = new DataView(input.buffer, input.byteOffset, input.byteLength);
  const h = <i32>view.getUint32(0, true);
  const epochs = <i32>view.getUint32(4, true);
  const rate = <f64>view.getUint32(8, true) / 10000.0;
  const rng = new Rng(<u64>view.getUint32(12, true));
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
  initWeights(m, rng);
  sgd(m, input, 28, trained, epochs, rate, rng);
  const trainRight = countRight(m, input, 28, trained);
  const testRight = countRight(m, input, 28 + trained * row, n - trained);
  writeOutput(modelBytes(m, trainRight, trained, testRight, n - trained, "mlp-train"));
}
