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
