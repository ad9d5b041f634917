// Framed parts, what a program reads from a composite input (docs/map-reduce.md): u32 count, then
// per part a u32 length and its bytes (little-endian). A reducer reads its shards' outputs this way.

export class Parts {
  /** Where each part starts in the input, and its length. */
  at: Int32Array;
  length: Int32Array;

  /** Reads the frame of `input`; aborts unless it is exactly framed parts. */
  constructor(input: Uint8Array) {
    assert(input.length >= 4, "not framed parts: no count");
    const view = new DataView(input.buffer, input.byteOffset, input.byteLength);
    const count = <i32>view.getUint32(0, true);
    assert(count >= 0 && <i64>count * 4 + 4 <= <i64>input.length, "not framed parts: count too large");
    this.at = new Int32Array(count);
    this.length = new Int32Array(count);
    let at: i64 = 4;
    for (let i = 0; i < count; i++) {
      assert(at + 4 <= <i64>input.length, "not framed parts: a part has no length");
      const n = <i64>view.getUint32(<i32>at, true);
      assert(at + 4 + n <= <i64>input.length, "not framed parts: a part runs past the end");
      this.at[i] = <i32>(at + 4);
      this.length[i] = <i32>n;
      at += 4 + n;
    }
    assert(at == <i64>input.length, "not framed parts: bytes after the last part");
  }

  get count(): i32 {
    return this.at.length;
  }
}
