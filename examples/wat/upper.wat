;; upper: the input with ASCII letters in upper case. The smallest useful Fog program.
(module
  (import "fog" "memory" (memory 1))
  (import "fog" "input_size" (func $input_size (result i32)))
  (import "fog" "read_input" (func $read_input (param i32 i32 i32) (result i32)))
  (import "fog" "write_output" (func $write_output (param i32 i32)))
  (func (export "run")
    (local $n i32) (local $chunk i32) (local $off i32) (local $i i32) (local $c i32)
    (local.set $n (call $input_size))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $off) (local.get $n)))
        ;; one 64 KiB page at a time
        (local.set $chunk (call $read_input (i32.const 0) (local.get $off) (i32.const 65536)))
        (local.set $i (i32.const 0))
        (block $end
          (loop $byte
            (br_if $end (i32.ge_u (local.get $i) (local.get $chunk)))
            (local.set $c (i32.load8_u (local.get $i)))
            (if (i32.and (i32.ge_u (local.get $c) (i32.const 97)) (i32.le_u (local.get $c) (i32.const 122)))
              (then (i32.store8 (local.get $i) (i32.sub (local.get $c) (i32.const 32)))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $byte)))
        (call $write_output (i32.const 0) (local.get $chunk))
        (local.set $off (i32.add (local.get $off) (local.get $chunk)))
        (br $next)))))
