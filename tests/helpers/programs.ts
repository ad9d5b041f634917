/**
 * WebAssembly text bodies several test files run, written against the host imports `$size`,
 * `$read` and `$write` (fog.input_size, fog.read_input, fog.write_output).
 */

/** Recursion n deep (n: the input's first u32), one i32 parameter; writes the depth it counted. */
export const RECURSE = `
    (func $f (param $n i32) (result i32)
        (if (result i32) (i32.eqz (local.get $n))
            (then (i32.const 0))
            (else (i32.add (call $f (i32.sub (local.get $n) (i32.const 1))) (i32.const 1)))))
    (func (export "run")
        (drop (call $read (i32.const 0) (i32.const 0) (i32.const 4)))
        (i32.store (i32.const 4) (call $f (i32.load (i32.const 0))))
        (call $write (i32.const 4) (i32.const 4)))`;

/** The passive data segment of BULK_PROGRAM, longer than a leaf. */
export const BULK_SEGMENT =
    '0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz, a passive segment longer than a leaf';

/**
 * A whole module: every bulk operation, each overlapping or crossing 64-byte leaves, and the host
 * calls, in a few dozen instructions; it writes 600 bytes of its memory from 60. Its input is
 * BULK_INPUT.
 */
export const BULK_PROGRAM = `
(module
  (import "fog" "memory" (memory 1))
  (import "fog" "input_size" (func $size (result i32)))
  (import "fog" "read_input" (func $read (param i32 i32 i32) (result i32)))
  (import "fog" "write_output" (func $write (param i32 i32)))
  (data $d "${BULK_SEGMENT}")
  (func (export "run")
    (local $n i32)
    (local.set $n (call $read (i32.const 100) (i32.const 3) (call $size)))
    (memory.copy (i32.const 90) (i32.const 100) (local.get $n))
    (memory.copy (i32.const 130) (i32.const 90) (local.get $n))
    (memory.fill (i32.const 300) (i32.const 0x41) (i32.const 150))
    (memory.init $d (i32.const 500) (i32.const 3) (i32.const 90))
    (data.drop $d)
    (call $write (i32.const 60) (i32.const 600))))`;

export const BULK_INPUT = Buffer.from(Array.from({ length: 200 }, (_, i) => (i * 7 + 1) & 0xff));

/**
 * A whole module running every integer instruction (and the float instructions that only move
 * bits) on edge values from its input, through every kind of control and memory access: loads and
 * stores of every width crossing a 64-byte leaf, memory.grow, globals, locals, select, br_table,
 * call_indirect, multi-value blocks, recursion. It writes what it computed. Its input is 16 i64
 * values (INTEGER_INPUT).
 */
export const INTEGER_PROGRAM = `
(module
  (import "fog" "memory" (memory 1 4))
  (import "fog" "read_input" (func $read (param i32 i32 i32) (result i32)))
  (import "fog" "write_output" (func $write (param i32 i32)))
  (type $bin32 (func (param i32 i32) (result i32)))
  (type $bin64 (func (param i64 i64) (result i64)))
  (table 2 2 funcref)
  (elem (i32.const 0) $mix32 $mix64)
  (global $acc (mut i64) (i64.const 0))
  (global $count (mut i32) (i32.const 0))
  (func $mix32 (type $bin32)
    (local $r i32)
    (local.set $r (i32.add (local.get 0) (local.get 1)))
    (local.set $r (i32.xor (local.get $r) (i32.sub (local.get 0) (local.get 1))))
    (local.set $r (i32.xor (local.get $r) (i32.mul (local.get 0) (local.get 1))))
    (local.set $r (i32.xor (local.get $r) (i32.and (local.get 0) (local.get 1))))
    (local.set $r (i32.xor (local.get $r) (i32.or (local.get 0) (local.get 1))))
    (local.set $r (i32.xor (local.get $r) (i32.shl (local.get 0) (local.get 1))))
    (local.set $r (i32.xor (local.get $r) (i32.shr_s (local.get 0) (local.get 1))))
    (local.set $r (i32.xor (local.get $r) (i32.shr_u (local.get 0) (local.get 1))))
    (local.set $r (i32.xor (local.get $r) (i32.rotl (local.get 0) (local.get 1))))
    (local.set $r (i32.xor (local.get $r) (i32.rotr (local.get 0) (local.get 1))))
    (if (i32.ne (local.get 1) (i32.const 0))
      (then
        (local.set $r (i32.xor (local.get $r) (i32.div_u (local.get 0) (local.get 1))))
        (local.set $r (i32.xor (local.get $r) (i32.rem_u (local.get 0) (local.get 1))))
        (local.set $r (i32.xor (local.get $r) (i32.rem_s (local.get 0) (local.get 1))))
        (if (i32.eqz (i32.and (i32.eq (local.get 0) (i32.const 0x80000000)) (i32.eq (local.get 1) (i32.const -1))))
          (then (local.set $r (i32.xor (local.get $r) (i32.div_s (local.get 0) (local.get 1))))))))
    (local.set $r (i32.add (local.get $r) (i32.clz (local.get 0))))
    (local.set $r (i32.add (local.get $r) (i32.ctz (local.get 1))))
    (local.set $r (i32.add (local.get $r) (i32.popcnt (local.get 0))))
    (local.set $r (i32.add (local.get $r) (i32.eqz (local.get 1))))
    (local.set $r (i32.add (local.get $r) (i32.lt_s (local.get 0) (local.get 1))))
    (local.set $r (i32.add (local.get $r) (i32.lt_u (local.get 0) (local.get 1))))
    (local.set $r (i32.add (local.get $r) (i32.gt_s (local.get 0) (local.get 1))))
    (local.set $r (i32.add (local.get $r) (i32.gt_u (local.get 0) (local.get 1))))
    (local.set $r (i32.add (local.get $r) (i32.le_s (local.get 0) (local.get 1))))
    (local.set $r (i32.add (local.get $r) (i32.le_u (local.get 0) (local.get 1))))
    (local.set $r (i32.add (local.get $r) (i32.ge_s (local.get 0) (local.get 1))))
    (local.set $r (i32.add (local.get $r) (i32.ge_u (local.get 0) (local.get 1))))
    (i32.add (local.get $r) (i32.extend8_s (i32.extend16_s (local.get 0)))))
  (func $mix64 (type $bin64)
    (local $r i64)
    (local.set $r (i64.add (local.get 0) (local.get 1)))
    (local.set $r (i64.xor (local.get $r) (i64.sub (local.get 0) (local.get 1))))
    (local.set $r (i64.xor (local.get $r) (i64.mul (local.get 0) (local.get 1))))
    (local.set $r (i64.xor (local.get $r) (i64.and (local.get 0) (local.get 1))))
    (local.set $r (i64.xor (local.get $r) (i64.or (local.get 0) (local.get 1))))
    (local.set $r (i64.xor (local.get $r) (i64.shl (local.get 0) (local.get 1))))
    (local.set $r (i64.xor (local.get $r) (i64.shr_s (local.get 0) (local.get 1))))
    (local.set $r (i64.xor (local.get $r) (i64.shr_u (local.get 0) (local.get 1))))
    (local.set $r (i64.xor (local.get $r) (i64.rotl (local.get 0) (local.get 1))))
    (local.set $r (i64.xor (local.get $r) (i64.rotr (local.get 0) (local.get 1))))
    (if (i64.ne (local.get 1) (i64.const 0))
      (then
        (local.set $r (i64.xor (local.get $r) (i64.div_u (local.get 0) (local.get 1))))
        (local.set $r (i64.xor (local.get $r) (i64.rem_u (local.get 0) (local.get 1))))
        (local.set $r (i64.xor (local.get $r) (i64.rem_s (local.get 0) (local.get 1))))
        (if (i32.eqz (i32.and (i64.eq (local.get 0) (i64.const 0x8000000000000000)) (i64.eq (local.get 1) (i64.const -1))))
          (then (local.set $r (i64.xor (local.get $r) (i64.div_s (local.get 0) (local.get 1))))))))
    (local.set $r (i64.add (local.get $r) (i64.clz (local.get 0))))
    (local.set $r (i64.add (local.get $r) (i64.ctz (local.get 1))))
    (local.set $r (i64.add (local.get $r) (i64.popcnt (local.get 0))))
    (local.set $r (i64.add (local.get $r) (i64.extend_i32_u (i64.eqz (local.get 1)))))
    (local.set $r (i64.add (local.get $r) (i64.extend_i32_s (i32.add (i64.lt_s (local.get 0) (local.get 1)) (i64.lt_u (local.get 0) (local.get 1))))))
    (local.set $r (i64.add (local.get $r) (i64.extend_i32_u (i32.add (i64.gt_s (local.get 0) (local.get 1)) (i64.gt_u (local.get 0) (local.get 1))))))
    (local.set $r (i64.add (local.get $r) (i64.extend_i32_u (i32.add (i64.le_s (local.get 0) (local.get 1)) (i64.le_u (local.get 0) (local.get 1))))))
    (local.set $r (i64.add (local.get $r) (i64.extend_i32_u (i32.add (i64.ge_s (local.get 0) (local.get 1)) (i64.ge_u (local.get 0) (local.get 1))))))
    (i64.add (local.get $r) (i64.extend8_s (i64.extend16_s (i64.extend32_s (local.get 0))))))
  (func $deep (param $n i32) (param $x i64) (result i64 i32)
    (if (result i64 i32) (i32.eqz (local.get $n))
      (then (local.get $x) (i32.const 0))
      (else
        (call $deep (i32.sub (local.get $n) (i32.const 1)) (i64.rotl (local.get $x) (i64.const 7)))
        (i32.add (i32.const 1)))))
  (func (export "run")
    (local $i i32) (local $j i32) (local $x i64) (local $y i64) (local $s i32)
    (drop (call $read (i32.const 0) (i32.const 0) (i32.const 128)))
    ;; every pair of the 16 values, through both mixers, called indirectly
    (loop $outer
      (local.set $j (i32.const 0))
      (loop $inner
        (local.set $x (i64.load (i32.shl (local.get $i) (i32.const 3))))
        (local.set $y (i64.load (i32.shl (local.get $j) (i32.const 3))))
        (global.set $acc (i64.add (global.get $acc)
          (call_indirect (type $bin64) (local.get $x) (local.get $y) (i32.const 1))))
        (global.set $count (i32.add (global.get $count)
          (call_indirect (type $bin32) (i32.wrap_i64 (local.get $x)) (i32.wrap_i64 (local.get $y)) (i32.const 0))))
        (br_if $inner (i32.lt_u (local.tee $j (i32.add (local.get $j) (i32.const 3))) (i32.const 16))))
      (br_if $outer (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 16))))
    ;; loads and stores of every width across the leaf boundary at 192
    (i64.store (i32.const 189) (global.get $acc))
    (i32.store (i32.const 254) (global.get $count))
    (i32.store8 (i32.const 320) (global.get $count))
    (i32.store16 (i32.const 383) (global.get $count))
    (i64.store8 (i32.const 400) (global.get $acc))
    (i64.store16 (i32.const 447) (global.get $acc))
    (i64.store32 (i32.const 510) (global.get $acc))
    (f32.store (i32.const 574) (f32.copysign (f32.neg (f32.abs (f32.load (i32.const 190)))) (f32.load (i32.const 8))))
    (f64.store (i32.const 636) (f64.copysign (f64.neg (f64.abs (f64.load (i32.const 187)))) (f64.load (i32.const 16))))
    (i64.store (i32.const 700) (i64.reinterpret_f64 (f64.reinterpret_i64 (i64.load (i32.const 189)))))
    (i32.store (i32.const 710) (i32.reinterpret_f32 (f32.reinterpret_i32 (i32.load (i32.const 254)))))
    (i64.store (i32.const 720) (i64.add (i64.add (i64.load8_s (i32.const 189)) (i64.load8_u (i32.const 190)))
      (i64.add (i64.add (i64.load16_s (i32.const 191)) (i64.load16_u (i32.const 190)))
        (i64.add (i64.load32_s (i32.const 189)) (i64.load32_u (i32.const 190))))))
    (i32.store (i32.const 730) (i32.add (i32.add (i32.load8_s (i32.const 191)) (i32.load8_u (i32.const 191)))
      (i32.add (i32.load16_s (i32.const 191)) (i32.load16_u (i32.const 191)))))
    ;; memory.grow and memory.size, granted and refused
    (i32.store (i32.const 740) (i32.add (memory.grow (i32.const 1)) (memory.size)))
    (i32.store (i32.const 744) (memory.grow (i32.const 10)))
    ;; select, br_table, a multi-value recursion
    (i32.store (i32.const 748) (select (global.get $count) (i32.const 7) (i32.wrap_i64 (global.get $acc))))
    (local.set $s (i32.const 0))
    (block $b2 (block $b1 (block $b0
      (br_table $b0 $b1 $b2 (i32.and (global.get $count) (i32.const 3))))
      (local.set $s (i32.const 10)))
      (local.set $s (i32.add (local.get $s) (i32.const 20))))
    (call $deep (i32.const 5) (global.get $acc))
    (local.set $s (i32.add (local.get $s)))
    (local.set $x)
    (i32.store (i32.const 752) (local.get $s))
    (i64.store (i32.const 756) (local.get $x))
    (call $write (i32.const 128) (i32.const 640)))
)`;

/** Sixteen i64 edge values for INTEGER_PROGRAM. */
export const INTEGER_INPUT = Buffer.from(
    new BigUint64Array(
        [
            0n,
            1n,
            2n ** 64n - 1n,
            2n ** 63n,
            2n ** 63n - 1n,
            2n ** 31n,
            2n ** 31n - 1n,
            2n ** 32n - 1n,
            0x0123456789abcdefn,
            31n,
            32n,
            63n,
            64n,
            65n,
            0xfedcba9876543210n,
            7n,
        ].map((v) => BigInt.asUintN(64, v)),
    ).buffer,
);
