// mlp-average: the reducer of a round of data-parallel training (`fog train`, docs/map-reduce.md).
// It averages the shards' models, each weighted by the samples it trained on, in the order given,
// and measures the result on held-out data: the next round's model.
//
// Input: framed parts (a composite input: u32 count, then u32 length and bytes each):
//   0. the held-out data, in the format of examples/data/digits.ts;
//   1… the shards' models as mlp-shard output them (lib/mlp.ts, with their accuracy counts), all of
//      the same sizes.
// Output: the averaged model (lib/mlp.ts) with its counts: the shards' own models' right answers on
// their slices and the slices' samples, added up, then the averaged model's right answers on the
// held-out samples, of how many.
import { readInput, writeOutput } from "./fog";
import { checkDataset, countRight, Model, modelBytes } from "./lib/mlp";
import { Parts } from "./lib/parts";

export function run(): void {
  const input = readInput();
  const parts = new Parts(input);
  assert(parts.count >= 2, "mlp-average: expects the held-out data and at least one model");
  const heldAt = parts.at[0];
  const heldOut = checkDataset(input, heldAt, parts.length[0], "mlp-average");
  assert(heldOut >= 1, "mlp-average: no held-out samples");
  const first = Model.read(new DataView(input.buffer, input.byteOffset + parts.at[1], parts.length[1]), 0);
  const a = new Model(first.d, first.h, first.c, first.maxValue);
  let total: f64 = 0;
  let trainRight: i64 = 0, trained: i64 = 0;
  for (let i = 1; i < parts.count; i++) {
    const view = new DataView(input.buffer, input.byteOffset + parts.at[i], parts.length[i]);
    const m = Model.read(view, 0);
    assert(parts.length[i] == m.byteSize() + 16, "mlp-average: a model without its accuracy counts");
    const right = <i32>view.getUint32(m.byteSize(), true), n = <i32>view.getUint32(m.byteSize() + 4, true);
    assert(n >= 1 && right >= 0 && right <= n, "mlp-average: a model's accuracy counts are not counts");
    assert(m.d == a.d && m.h == a.h && m.c == a.c && m.maxValue == a.maxValue, "mlp-average: models of different sizes");
    const w = <f64>n;
    for (let j = 0; j < a.w1.length; j++) a.w1[j] += w * m.w1[j];
    for (let j = 0; j < a.b1.length; j++) a.b1[j] += w * m.b1[j];
    for (let j = 0; j < a.w2.length; j++) a.w2[j] += w * m.w2[j];
    for (let j = 0; j < a.b2.length; j++) a.b2[j] += w * m.b2[j];
    total += w;
    trainRight += right;
    trained += n;
  }
  for (let j = 0; j < a.w1.length; j++) a.w1[j] /= total;
  for (let j = 0; j < a.b1.length; j++) a.b1[j] /= total;
  for (let j = 0; j < a.w2.length; j++) a.w2[j] /= total;
  for (let j = 0; j < a.b2.length; j++) a.b2[j] /= total;
  assert(<i32>input[heldAt + 6] == a.c && (<i32>input[heldAt + 4] | (<i32>input[heldAt + 5] << 8)) == a.d, "mlp-average: the held-out data does not fit the models");
  const right = countRight(a, input, heldAt + 8, heldOut);
  assert(trained <= 0x7fffffff, "mlp-average: more samples than a count holds");
  writeOutput(modelBytes(a, <i32>trainRight, <i32>trained, right, heldOut, "mlp-average"));
}
