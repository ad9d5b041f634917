;; fnv-rounds: FNV-1a (64-bit) over the input, repeated for as many rounds as the input's first
;; four bytes say (little-endian), each round seeded with the previous hash. Outputs the 8-byte
;; hash. A CPU-bound kernel whose cost the requester chooses.
(module
  (import "fog" "memory" (memory 1))
  (import "fog" "input_size" (func $input_size (result i32)))
  (import "fog" "read_input" (func $read_input (param i32 i32 i32) (result i32)))
  (import "fog" "write_output" (func $write_output (param i32 i32)))
  (func (export "run")
    (local $n i32) (local $rounds i32) (local $r i32) (local $i i32) (local $h i64)
    (local.set $n (call $read_input (i32.const 16) (i32.const 0) (i32.const 65000)))
    (local.set $rounds (i32.load (i32.const 16)))
    (local.set $h (i64.const 0xcbf29ce484222325))
    (block $done
      (loop $round
        (br_if $done (i32.ge_u (local.get $r) (local.get $rounds)))
        (local.set $i (i32.const 0))
        (block $end
          (loop $byte
            (br_if $end (i32.ge_u (local.get $i) (local.get $n)))
            (local.set $h (i64.mul
              (i64.xor (local.get $h) (i64.load8_u offset=16 (local.get $i)))
              (i64.const 0x100000001b3)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $byte)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $round)))
    (i64.store (i32.const 0) (local.get $h))
    (call $write_output (i32.const 0) (i32.const 8))))
