// mlp-shard: one shard of a round of data-parallel training (`fog train`, docs/map-reduce.md). It
// trains the round's model by stochastic gradient descent on its own slice of the data for a few
// epochs and outputs the model it reached; mlp-average then combines the shards' models into the
// next round's.
//
// Input: framed parts (a composite input: u32 count, then u32 length and bytes each), three of them:
//   0. settings, six u32 (little-endian): hidden units, epochs, learning rate in 1/10000ths, seed,
//      round, shard;
//   1. the round's model (lib/mlp.ts; its accuracy counts are ignored), or nothing in the first
//      round: the initial weights then come from the seed, the same on every shard;
//   2. the shard's slice of the data, in the format of examples/data/digits.ts.
// The order of the samples in each epoch comes from the seed, the round and the shard.
// Output: the model, with its accuracy on the slice (training samples right and trained; 0, 0).
import { readInput, writeOutput } from "./fog";
import { checkDataset, countRight, initWeights, Model, modelBytes, Rng, sgd } from "./lib/mlp";
import { Parts } from "./lib/parts";

export function run(): void {
  const input = readInput();
  const parts = new Parts(input);
  assert(parts.count == 3, "mlp-shard: expects three parts: settings, model, data");
  assert(parts.length[0] == 24, "mlp-shard: the settings are six u32");
  const settings = new DataView(input.buffer, input.byteOffset + parts.at[0], 24);
  const h = <i32>settings.getUint32(0, true);
  const epochs = <i32>settings.getUint32(4, true);
  const rate = <f64>settings.getUint32(8, true) / 10000.0;
  const seed = <u64>settings.getUint32(12, true);
  const round = <u64>settings.getUint32(16, true);
  const shard = <u64>settings.getUint32(20, true);
  assert(h >= 1 && h <= 1024, "mlp-shard: hidden units must be 1..1024");
  assert(epochs >= 1 && epochs <= 10000, "mlp-shard: epochs must be 1..10000");
  assert(rate > 0 && rate <= 1.0, "mlp-shard: learning rate must be 1..10000 ten-thousandths");

  const dataAt = parts.at[2];
  const n = checkDataset(input, dataAt, parts.length[2], "mlp-shard");
  assert(n >= 1, "mlp-shard: no samples in the slice");
  const d = <i32>(input[dataAt + 4] | (<i32>input[dataAt + 5] << 8));
  const c = <i32>input[dataAt + 6];
  let m: Model;
  if (parts.length[1] == 0) {
    m = new Model(d, h, c, <u32>input[dataAt + 7]);
    initWeights(m, new Rng(seed));
  } else {
    m = Model.read(new DataView(input.buffer, input.byteOffset + parts.at[1], parts.length[1]), 0);
    assert(parts.length[1] == m.byteSize() || parts.length[1] == m.byteSize() + 16, "mlp-shard: bytes after the model");
    assert(m.d == d && m.c == c && m.h == h && m.maxValue == <u32>input[dataAt + 7], "mlp-shard: the model does not fit the data and the settings");
  }
  sgd(m, input, dataAt + 8, n, epochs, rate, new Rng(seed * 1000003 + round * 1009 + shard + 7));
  writeOutput(modelBytes(m, countRight(m, input, dataAt + 8, n), n, 0, 0, "mlp-shard"));
}
