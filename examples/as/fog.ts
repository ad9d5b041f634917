// The Fog host ABI for AssemblyScript programs (see client/compute/abi.ts). Compile with
// --importMemory (the memory is env.memory) and no runtime imports beyond env.abort.

@external("fog", "input_size")
export declare function input_size(): i32;

@external("fog", "read_input")
export declare function read_input(dst: usize, offset: u32, len: u32): u32;

@external("fog", "write_output")
export declare function write_output(src: usize, len: u32): void;

/** The whole input, in a fresh buffer. */
export function readInput(): Uint8Array {
  const n = input_size();
  const buf = new Uint8Array(n);
  let done: u32 = 0;
  while (done < <u32>n) done += read_input(buf.dataStart + done, done, <u32>n - done);
  return buf;
}

/** Appends bytes to the output. */
export function writeOutput(bytes: Uint8Array): void {
  write_output(bytes.dataStart, <u32>bytes.length);
}
