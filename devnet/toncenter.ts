/**
 * The toncenter v2 wire format, for the part of the API that @ton/ton's `TonClient` uses: how a
 * transaction, a message and a TVM stack look in JSON. Pure functions, no chain access.
 */
import { Address, beginCell, Cell, Message, storeMessage, storeTransaction, Transaction, TupleItem } from '@ton/core';

/** A stack entry as `runGetMethod` receives it: `["num", "12"]`, `["tvm.Cell", base64]`, … */
export type StackArg = [string, unknown];

/** Parses the stack a client sent to `runGetMethod`, with one clear error per malformed entry. */
export function parseStackArgs(stack: unknown): TupleItem[] {
    if (stack === undefined) return [];
    if (!Array.isArray(stack)) throw new Error('stack must be an array of [type, value] pairs');
    return stack.map((entry, i): TupleItem => {
        if (!Array.isArray(entry) || entry.length !== 2) throw new Error(`stack entry ${i} must be a [type, value] pair`);
        const [type, value] = entry as [unknown, unknown];
        if (type === 'num' || type === 'int') {
            if (typeof value !== 'string' && typeof value !== 'number') throw new Error(`stack entry ${i}: a number must be a string`);
            const s = String(value);
            return { type: 'int', value: s.startsWith('-') ? -BigInt(s.slice(1)) : BigInt(s) };
        }
        if (type === 'tvm.Cell' || type === 'tvm.Slice' || type === 'tvm.Builder') {
            if (typeof value !== 'string') throw new Error(`stack entry ${i}: a cell must be a base64 BoC`);
            const cell = Cell.fromBase64(value);
            return type === 'tvm.Cell'
                ? { type: 'cell', cell }
                : type === 'tvm.Slice'
                  ? { type: 'slice', cell }
                  : { type: 'builder', cell };
        }
        if (type === 'null') return { type: 'null' };
        throw new Error(`stack entry ${i}: unsupported type ${JSON.stringify(type)}`);
    });
}

const b64 = (c: Cell) => c.toBoc({ idx: false }).toString('base64');

/** A nested stack entry (inside a tuple) in tonlib's typed form. */
function entryOf(item: TupleItem): object {
    switch (item.type) {
        case 'int':
            return { '@type': 'tvm.stackEntryNumber', number: { '@type': 'tvm.numberDecimal', number: item.value.toString() } };
        case 'cell':
            return { '@type': 'tvm.stackEntryCell', cell: { '@type': 'tvm.cell', bytes: b64(item.cell) } };
        case 'slice':
        case 'builder':
            return { '@type': 'tvm.stackEntrySlice', slice: { '@type': 'tvm.slice', bytes: b64(item.cell) } };
        case 'tuple':
            return { '@type': 'tvm.stackEntryTuple', tuple: { '@type': 'tvm.tuple', elements: item.items.map(entryOf) } };
        case 'null':
            // tonlib has no null entry: it is an empty list, which clients read back as null
            return { '@type': 'tvm.stackEntryList', list: { '@type': 'tvm.list', elements: [] } };
        default:
            return { '@type': 'tvm.stackEntryUnsupported' };
    }
}

/** A top-level stack entry as toncenter returns it from `runGetMethod`. */
export function stackResult(items: TupleItem[]): unknown[] {
    return items.map((item) => {
        switch (item.type) {
            case 'int':
                return ['num', item.value < 0n ? '-0x' + (-item.value).toString(16) : '0x' + item.value.toString(16)];
            case 'cell':
                return ['cell', { bytes: b64(item.cell), object: null }];
            case 'slice':
            case 'builder':
                return ['slice', { bytes: b64(item.cell), object: null }];
            case 'tuple':
                return ['tuple', { '@type': 'tvm.tuple', elements: item.items.map(entryOf) }];
            case 'null':
                return ['null', null];
            default:
                return ['unsupported', null];
        }
    });
}

function addressText(a: Address | null | undefined | { toString(): string }): string {
    if (!a) return '';
    return a instanceof Address ? a.toString({ bounceable: true, testOnly: false }) : '';
}

/** A message as toncenter's `raw.message`. */
export function messageJson(m: Message): object {
    const info = m.info;
    const value = info.type === 'internal' ? info.value.coins.toString() : '0';
    const fwdFee = info.type === 'internal' ? info.forwardFee.toString() : '0';
    const ihrFee = info.type === 'internal' ? info.ihrFee.toString() : '0';
    const createdLt = info.type === 'external-in' ? '0' : info.createdLt.toString();
    const source = info.type === 'external-in' ? '' : addressText(info.src);
    const destination = info.type === 'external-out' ? '' : addressText(info.dest);
    return {
        '@type': 'raw.message',
        source,
        destination,
        value,
        fwd_fee: fwdFee,
        ihr_fee: ihrFee,
        created_lt: createdLt,
        body_hash: m.body.hash().toString('base64'),
        msg_data: { '@type': 'msg.dataRaw', body: b64(m.body) },
        message: b64(beginCell().store(storeMessage(m)).endCell()),
    };
}

/** A transaction as toncenter's `raw.transaction` (its `data` is the transaction's BoC). */
export function transactionJson(tx: Transaction): object {
    const cell = beginCell().store(storeTransaction(tx)).endCell();
    const d = tx.description;
    const storageFee = d.type === 'generic' && d.storagePhase ? d.storagePhase.storageFeesCollected : 0n;
    const outs = [...tx.outMessages.values()];
    return {
        '@type': 'raw.transaction',
        utime: tx.now,
        data: b64(cell),
        transaction_id: { '@type': 'internal.transactionId', lt: tx.lt.toString(), hash: cell.hash().toString('base64') },
        fee: tx.totalFees.coins.toString(),
        storage_fee: storageFee.toString(),
        other_fee: (tx.totalFees.coins - storageFee).toString(),
        in_msg: tx.inMessage ? messageJson(tx.inMessage) : undefined,
        out_msgs: outs.map(messageJson),
    };
}
