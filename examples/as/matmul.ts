// matmul: multiplies two n×n matrices of f64 and outputs the product (row-major, little-endian
// f64), a CPU kernel for benchmarks. Input: n as a u32 (little-endian), then the 2·n² numbers of
// A and B, or nothing more, in which case A and B are generated from a fixed seed (xorshift).
import { readInput, writeOutput } from "./fog";

function generate(n: i32, seed: u64): Float64Array {
  const m = new Float64Array(n * n);
  let x = seed;
  for (let i = 0; i < n * n; i++) {
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    m[i] = <f64>(x % 2001) / 1000.0 - 1.0;
  }
  return m;
}

export function run(): void {
  const input = readInput();
  const view = new DataView(input.buffer, input.byteOffset, input.byteLength);
  const n = <i32>view.getUint32(0, true);
  let a: Float64Array, b: Float64Array;
  if (input.length >= 4 + 16 * n * n) {
    a = new Float64Array(n * n);
    b = new Float64Array(n * n);
    for (let i = 0; i < n * n; i++) {
      a[i] = view.getFloat64(4 + 8 * i, true);
      b[i] = view.getFloat64(4 + 8 * (n * n + i), true);
    }
  } else {
    a = generate(n, 0x9E3779B97F4A7C15);
    b = generate(n, 0xD1B54A32D192ED03);
  }
  const c = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < n; k++) {
      const aik = a[i * n + k];
      for (let j = 0; j < n; j++) c[i * n + j] += aik * b[k * n + j];
    }
  }
  writeOutput(Uint8Array.wrap(c.buffer));
}
