/**
 * What kind of step a machine takes next, for measuring the one-step verifier's gas by class
 * (tests/step-verifier.spec.ts, `npm run bench` section 8): the classes of docs/disputes.md's gas
 * table, which group instructions that cost the verifier alike.
 */
import { Machine } from './interpreter';

/** The class of the machine's next step: what moves it, or its instruction's kind. */
export function stepClass(m: Machine): string {
    if (m.halted) return 'halted';
    if (m.bulk !== 0) return 'bulk chunk';
    if (m.fp === 0) return 'entry call';
    const f = m.frames[m.fp - 1];
    const op = f.code.op[f.pc];
    if (op === 0x10 || op === 0x11) return op < 0x11 && f.code.a[f.pc] < m.m.hosts.length ? 'host call' : 'call';
    if (op === 0x0c || op === 0x0d || op === 0x0e || op === 0x0f) return 'branch';
    if (op === 0x0b && f.code.a[f.pc] === 1) return 'return';
    if (op <= 0x11) return 'control';
    if (op >= 0x20 && op <= 0x22) return 'local';
    if (op === 0x23 || op === 0x24) return 'global';
    if (op >= 0x28 && op <= 0x35) return 'load';
    if (op >= 0x36 && op <= 0x3e) return 'store';
    if (op === 0x3f || op === 0x40) return 'memory.size/grow';
    if (op >= 0xfc08) return 'bulk start';
    if ((op >= 0x6d && op <= 0x70) || (op >= 0x7f && op <= 0x82)) return 'division';
    if (op === 0x69 || op === 0x7b) return 'popcnt';
    if (isFloatArithmetic(op)) return 'float';
    return 'other';
}

/** Float arithmetic, comparisons and conversions (the instructions that do more than move bits). */
export function isFloatArithmetic(op: number): boolean {
    return (
        (op >= 0x5b && op <= 0x66) ||
        (op >= 0x8d && op <= 0x97) ||
        (op >= 0x9b && op <= 0xa5) ||
        (op >= 0xa8 && op <= 0xab) ||
        (op >= 0xae && op <= 0xbb) ||
        (op >= 0xfc00 && op <= 0xfc07)
    );
}

/** The opcode of the next instruction, or -1 for a step that is no instruction. */
export function nextOp(m: Machine): number {
    if (m.halted || m.bulk !== 0 || m.fp === 0) return -1;
    const f = m.frames[m.fp - 1];
    return f.code.op[f.pc];
}
