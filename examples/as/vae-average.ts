// vae-average: the reducer of a round of data-parallel training of the sketch model (`fog train
// --task sketches`, docs/memes.md). It averages the shards' models, each weighted by the samples it
// trained on, in the order given, and measures the result on held-out sketches: the next round's
// model.
//
// Input: framed parts (a composite input: u32 count, then u32 length and bytes each):
//   0. the held-out data, in the format of examples/data/digits.ts;
//   1… the shards' models as vae-shard output them (lib/vae.ts, with their measures), all of the
//      same sizes.
// Output: the averaged model (lib/vae.ts) with its measures: the shards' last-epoch losses averaged
// by their samples and the samples added up, then the averaged model's mean loss on the held-out
// sketches (each decoded from its latent mean) and how many there were.
import { readInput, writeOutput } from "./fog";
import { checkDataset } from "./lib/mlp";
import { Parts } from "./lib/parts";
import { checkPixels, Vae, vaeBytes, MEASURES } from "./lib/vae";

export function run(): void {
  const input = readInput();
  const parts = new Parts(input);
  assert(parts.count >= 2, "vae-average: expects the held-out data and at least one model");
  const heldAt = parts.at[0];
  const heldOut = checkDataset(input, heldAt, parts.length[0], "vae-average");
  assert(heldOut >= 1, "vae-average: no held-out samples");
  const first = Vae.read(new DataView(input.buffer, input.byteOffset + parts.at[1], parts.length[1]), 0);
  const a = new Vae(first.d, first.c, first.h, first.z, first.maxValue);
  const sums = a.arrays();
  let total: f64 = 0, lossSum: f64 = 0;
  let trained: i64 = 0;
  for (let i = 1; i < parts.count; i++) {
    const view = new DataView(input.buffer, input.byteOffset + parts.at[i], parts.length[i]);
    const m = Vae.read(view, 0);
    assert(parts.length[i] == m.byteSize() + MEASURES, "vae-average: a model without its measures");
    const loss = view.getFloat64(m.byteSize(), true), n = <i32>view.getUint32(m.byteSize() + 8, true);
    assert(n >= 1 && isFinite(loss) && loss >= 0, "vae-average: a model's measures are not a loss and a count");
    assert(m.d == a.d && m.c == a.c && m.h == a.h && m.z == a.z && m.maxValue == a.maxValue, "vae-average: models of different sizes");
    const w = <f64>n;
    const arrays = m.arrays();
    for (let k = 0; k < sums.length; k++) {
      const s = sums[k], x = arrays[k];
      for (let j = 0; j < s.length; j++) unchecked(s[j] += w * x[j]);
    }
    total += w;
    lossSum += w * loss;
    trained += n;
  }
  for (let k = 0; k < sums.length; k++) {
    const s = sums[k];
    for (let j = 0; j < s.length; j++) unchecked(s[j] /= total);
  }
  assert(<i32>input[heldAt + 6] == a.c && (<i32>input[heldAt + 4] | (<i32>input[heldAt + 5] << 8)) == a.d && <u32>input[heldAt + 7] == a.maxValue, "vae-average: the held-out data does not fit the models");
  checkPixels(input, heldAt, heldOut, a.d, "vae-average");
  let held: f64 = 0;
  const row = a.d + 1;
  for (let s = 0; s < heldOut; s++) {
    const at = heldAt + 8 + s * row;
    held += a.meanLoss(input, at, <i32>input[at + a.d]);
  }
  assert(trained <= 0x7fffffff, "vae-average: more samples than a count holds");
  writeOutput(vaeBytes(a, lossSum / total, <i32>trained, held / <f64>heldOut, heldOut, "vae-average"));
}
