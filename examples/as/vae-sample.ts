// vae-sample: draws sketches with a trained sketch model (lib/vae.ts): the pictures a meme is drawn
// from, without the caption, for measuring and for grids.
//
// Input (little-endian): u32 subject (0..subjects − 1), u32 count (1..4096), u32 seed,
// u32 temperature in 1/1000ths (0..4000), then the model (lib/vae.ts; its measures may follow).
// Output: count pictures of d pixels (0..255, row-major) each, picture i (from 0) drawn from seed
// + i (lib/mlp.ts's Rng): at temperature 600, the picture a meme of the subject with
// seed:<seed + i> draws (where seed + i is at most 4294967295, the largest seed a meme takes).
import { readInput, writeOutput } from "./fog";
import { Rng } from "./lib/mlp";
import { draw, Vae, MEASURES } from "./lib/vae";

export function run(): void {
  const input = readInput();
  assert(input.length >= 16, "vae-sample: input shorter than its header");
  const view = new DataView(input.buffer, input.byteOffset, input.byteLength);
  const subject = <i32>view.getUint32(0, true);
  const seed = <u64>view.getUint32(8, true);
  const count32 = view.getUint32(4, true), temperature32 = view.getUint32(12, true);
  assert(count32 >= 1 && count32 <= 4096, "vae-sample: count must be 1..4096");
  assert(temperature32 <= 4000, "vae-sample: temperature must be 0..4000 thousandths");
  const count = <i32>count32, temperature = <i32>temperature32;
  const m = Vae.read(new DataView(input.buffer, input.byteOffset + 16, input.byteLength - 16), 0);
  assert(input.length - 16 == m.byteSize() || input.length - 16 == m.byteSize() + MEASURES, "vae-sample: bytes after the model");
  assert(subject >= 0 && subject < m.c, "vae-sample: no such subject in the model");
  const out = new Uint8Array(count * m.d);
  for (let i = 0; i < count; i++) draw(m, subject, new Rng(seed + <u64>i), <f64>temperature / 1000.0, out, i * m.d);
  writeOutput(out);
}
