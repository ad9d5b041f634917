;; concat: the parts of a composite input joined in order (docs/protocol.md, "Composite inputs").
;; The reducer of a map whose shards' outputs are pieces of one whole: `fog job map --example upper
;; --split book.txt --shards 16`, then `fog job reduce --example concat --from <map>` gives the book
;; in upper case. Its input is framed parts: their count (u32, little-endian), then each part's
;; length (u32) and bytes. An input that is not exactly that traps.
(module
  (import "fog" "memory" (memory 2))
  (import "fog" "input_size" (func $input_size (result i32)))
  (import "fog" "read_input" (func $read_input (param i32 i32 i32) (result i32)))
  (import "fog" "write_output" (func $write_output (param i32 i32)))
  ;; the u32 at input offset $off, read into the second page (traps if the input ends first)
  (func $u32 (param $off i32) (result i32)
    (if (i32.ne (call $read_input (i32.const 65536) (local.get $off) (i32.const 4)) (i32.const 4))
      (then unreachable))
    (i32.load (i32.const 65536)))
  (func (export "run")
    (local $count i32) (local $off i32) (local $left i32) (local $chunk i32)
    (local.set $count (call $u32 (i32.const 0)))
    (local.set $off (i32.const 4))
    (block $done
      (loop $part
        (br_if $done (i32.eqz (local.get $count)))
        (local.set $left (call $u32 (local.get $off)))
        (local.set $off (i32.add (local.get $off) (i32.const 4)))
        ;; the part, through the first page, at most 64 KiB at a time
        (block $copied
          (loop $copy
            (br_if $copied (i32.eqz (local.get $left)))
            (local.set $chunk
              (call $read_input (i32.const 0) (local.get $off)
                (select (local.get $left) (i32.const 65536) (i32.lt_u (local.get $left) (i32.const 65536)))))
            ;; the input ended inside the part
            (if (i32.eqz (local.get $chunk)) (then unreachable))
            (call $write_output (i32.const 0) (local.get $chunk))
            (local.set $off (i32.add (local.get $off) (local.get $chunk)))
            (local.set $left (i32.sub (local.get $left) (local.get $chunk)))
            (br $copy)))
        (local.set $count (i32.sub (local.get $count) (i32.const 1)))
        (br $part)))
    ;; bytes after the last part: not framed parts
    (if (i32.ne (local.get $off) (call $input_size)) (then unreachable))))
