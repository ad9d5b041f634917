// mlp-infer: classifies samples with a model that mlp-train produced.
//
// Input (little-endian): the model, byte for byte as mlp-train output it (lib/mlp.ts; the accuracy
// counts after the weights are optional), then u32 samples m, then per sample its features as
// bytes (as many as the model has, on its scale 0..largest value).
// Output: one text line per sample, "<class> <probability>%" with one decimal, e.g. "7 98.4%".
import { readInput, writeOutput } from "./fog";
import { Model } from "./lib/mlp";

export function run(): void {
  const input = readInput();
  const view = new DataView(input.buffer, input.byteOffset, input.byteLength);
  const m = Model.read(view, 0);
  // the accuracy counts mlp-train appends are skipped if present: what follows is m and the samples
  const bare = m.byteSize();
  assert(input.length >= bare + 4, "mlp-infer: no sample count after the model");
  // the layout mlp-train outputs (counts after the weights), or the bare model; never both
  const withCounts = fits(view, bare + 16, m.d), without = fits(view, bare, m.d);
  assert(withCounts || without, "mlp-infer: the samples do not match their count and the model's features");
  assert(!(withCounts && without), "mlp-infer: ambiguous input: it reads both with and without the accuracy counts");
  let at = withCounts ? bare + 16 : bare;
  const count = <i32>view.getUint32(at, true);
  at += 4;
  const out = new Uint8Array(count * 12); // "255 100.0%\n" at most
  let o = 0;
  for (let s = 0; s < count; s++) {
    m.load(input, at + s * m.d);
    const k = m.forward();
    const permille = <i32>Math.floor(m.out[k] * 1000.0 + 0.5);
    o = digits(out, o, k);
    out[o++] = 0x20;
    o = digits(out, o, permille / 10);
    out[o++] = 0x2e;
    out[o++] = <u8>(0x30 + permille % 10);
    out[o++] = 0x25;
    out[o++] = 0x0a;
  }
  writeOutput(out.subarray(0, o));
}

/** True if a u32 count at `at` is followed by exactly that many samples of `d` bytes. */
function fits(view: DataView, at: i32, d: i32): bool {
  return view.byteLength >= at + 4 && <i64>view.byteLength == <i64>at + 4 + <i64>view.getUint32(at, true) * <i64>d;
}

/** Writes `v` (0..999) in decimal at `o`; returns the offset after it. */
function digits(out: Uint8Array, o: i32, v: i32): i32 {
  if (v >= 100) out[o++] = <u8>(0x30 + v / 100);
  if (v >= 10) out[o++] = <u8>(0x30 + (v / 10) % 10);
  out[o++] = <u8>(0x30 + v % 10);
  return o;
}
