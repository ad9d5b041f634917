// vae-shard: one shard of a round of data-parallel training of the sketch model (`fog train --task
// sketches`, docs/memes.md). It trains the round's conditional VAE (lib/vae.ts) with Adam on its own
// slice of the sketches for a few epochs and outputs the model it reached; vae-average then
// combines the shards' models into the next round's.
//
// Input: framed parts (a composite input: u32 count, then u32 length and bytes each), three of them:
//   0. settings, eight u32 (little-endian): hidden units, latent dimensions, epochs, batch size,
//      learning rate in 1/10000ths, seed, round, shard;
//   1. the round's model (lib/vae.ts; its measures are ignored), or nothing in the first round: the
//      initial weights then come from the seed, the same on every shard;
//   2. the shard's slice of the data, in the format of examples/data/digits.ts (32×32 pixels and a
//      subject per sample: examples/data/sketches.ts).
// The order of the samples and the latent noise come from the seed, the round and the shard.
// Output: the model, with the mean loss of its last epoch and the samples it trained on (then 0, 0).
import { readInput, writeOutput } from "./fog";
import { checkDataset, Rng } from "./lib/mlp";
import { Parts } from "./lib/parts";
import { checkPixels, initVae, train, Vae, vaeBytes, MEASURES } from "./lib/vae";

export function run(): void {
  const input = readInput();
  const parts = new Parts(input);
  assert(parts.count == 3, "vae-shard: expects three parts: settings, model, data");
  assert(parts.length[0] == 32, "vae-shard: the settings are eight u32");
  const settings = new DataView(input.buffer, input.byteOffset + parts.at[0], 32);
  const h = <i32>settings.getUint32(0, true);
  const z = <i32>settings.getUint32(4, true);
  const epochs = <i32>settings.getUint32(8, true);
  const batch = <i32>settings.getUint32(12, true);
  const rate = <f64>settings.getUint32(16, true) / 10000.0;
  const seed = <u64>settings.getUint32(20, true);
  const round = <u64>settings.getUint32(24, true);
  const shard = <u64>settings.getUint32(28, true);
  assert(h >= 1 && h <= 1024, "vae-shard: hidden units must be 1..1024");
  assert(z >= 1 && z <= 256, "vae-shard: latent dimensions must be 1..256");
  assert(epochs >= 1 && epochs <= 10000, "vae-shard: epochs must be 1..10000");
  assert(batch >= 1 && batch <= 4096, "vae-shard: batch size must be 1..4096");
  assert(rate > 0 && rate <= 1.0, "vae-shard: learning rate must be 1..10000 ten-thousandths");

  const dataAt = parts.at[2];
  const n = checkDataset(input, dataAt, parts.length[2], "vae-shard");
  assert(n >= 1, "vae-shard: no samples in the slice");
  const d = <i32>(input[dataAt + 4] | (<i32>input[dataAt + 5] << 8));
  const c = <i32>input[dataAt + 6];
  checkPixels(input, dataAt, n, d, "vae-shard");
  let m: Vae;
  if (parts.length[1] == 0) {
    m = new Vae(d, c, h, z, <u32>input[dataAt + 7]);
    initVae(m, new Rng(seed));
  } else {
    m = Vae.read(new DataView(input.buffer, input.byteOffset + parts.at[1], parts.length[1]), 0);
    assert(parts.length[1] == m.byteSize() || parts.length[1] == m.byteSize() + MEASURES, "vae-shard: bytes after the model");
    assert(m.d == d && m.c == c && m.h == h && m.z == z && m.maxValue == <u32>input[dataAt + 7], "vae-shard: the model does not fit the data and the settings");
  }
  const loss = train(m, input, dataAt + 8, n, epochs, batch, rate, new Rng(seed * 1000003 + round * 1009 + shard + 7));
  writeOutput(vaeBytes(m, loss, n, 0, 0, "vae-shard"));
}
