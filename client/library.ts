/**
 * Job's code as a masterchain library (docs/operating.md, "Job's code as a library"): whether the
 * hub deploys jobs with a library cell, and how long the Librarian's balance pays the library's
 * masterchain storage rent. Should it run out, the account freezes, the library is gone and no
 * job deployed with it can run, so the keeper and `readState` watch it.
 */
import { Address, Cell } from '@ton/core';
import type { TonClient } from '@ton/ton';
import { Fog } from './actions';
import { STORAGE } from './fees';
import { cellShape } from '../wrappers/gas';
import { jobCodeCell, librarianInit } from '../wrappers/protocol';

/** The storage prices' unit: 2^-16 nanoton. */
const UNIT = 65_536n;
const YEAR_SECONDS = 365n * 86_400n;
/** What the Librarian's account holds besides the library's code: its code (4 cells, 1,226 bits), its data, the library dictionary and the account itself. */
const ACCOUNT_OVERHEAD = { cells: 8, bits: 2_500 };

/** A Librarian's account: whether its library is published, and for how long its balance pays the rent. */
export interface LibrarianState {
    librarian: Address;
    /** Active and published, active but not yet published, frozen (its rent ran out: the library is gone), or never deployed. */
    state: 'published' | 'unpublished' | 'frozen' | 'missing';
    /**
     * Its balance less the rent accrued since its last transaction: the masterchain takes rent
     * only when the account has a transaction, and a Librarian has few.
     */
    balance: bigint;
    /** The masterchain rent of the account, nanoton a year at today's prices. */
    rentPerYear: bigint;
    /** Days `balance` pays that rent (0 unless published). */
    daysLeft: number;
}

export type JobLibraryStatus =
    | { library: false }
    /** The hub's library cell names code other than this build's Job: its Librarian is not known here. */
    | { library: true; hash: string; state: 'unknown' }
    | ({ library: true; hash: string } & LibrarianState);

/** A year of the masterchain's storage rent for an account of `cells` cells and `bits` bits, nanoton. */
export function masterchainRentPerYear(cells: number, bits: number): bigint {
    return ((BigInt(bits) * STORAGE.mcBitPricePs + BigInt(cells) * STORAGE.mcCellPricePs) * YEAR_SECONDS + UNIT - 1n) / UNIT;
}

/** Whether `code` is a library cell (exotic, type 2); its hash as hex if so. */
export function libraryHashOf(code: Cell): string | undefined {
    if (!code.isExotic || code.bits.length !== 8 + 256) return undefined;
    const s = code.beginParse(true);
    if (s.loadUint(8) !== 2) return undefined;
    return s.loadBuffer(32).toString('hex');
}

/** The state of the Librarian that publishes `code` (client/library.ts's figures at today's prices). */
export async function librarianState(client: TonClient, code: Cell): Promise<LibrarianState> {
    const shape = cellShape(code);
    const rentPerYear = masterchainRentPerYear(shape.cells + ACCOUNT_OVERHEAD.cells, shape.bits + ACCOUNT_OVERHEAD.bits);
    const librarian = (await librarianInit(code)).address;
    const account = await client.getContractState(librarian);
    if (account.state !== 'active')
        return { librarian, state: account.state === 'frozen' ? 'frozen' : 'missing', balance: account.balance, rentPerYear, daysLeft: 0 };
    const published = (await client.runMethod(librarian, 'published')).stack.readBoolean();
    const [last] = await client.getTransactions(librarian, { limit: 1, archival: true });
    const since = last ? Math.max(0, account.timestampt - last.now) : 0;
    const due = (rentPerYear * BigInt(since)) / YEAR_SECONDS;
    const balance = account.balance > due ? account.balance - due : 0n;
    const daysLeft = published ? Number((balance * 365n * 1000n) / rentPerYear) / 1000 : 0;
    return { librarian, state: published ? 'published' : 'unpublished', balance, rentPerYear, daysLeft };
}

/** The hub's way of deploying jobs, and the state of the library it relies on. */
export async function jobLibraryStatus(fog: Fog): Promise<JobLibraryStatus> {
    const hash = libraryHashOf(await fog.hub.getJobCode());
    if (hash === undefined) return { library: false };
    const code = await jobCodeCell();
    if (code.hash().toString('hex') !== hash) return { library: true, hash, state: 'unknown' };
    return { library: true, hash, ...(await librarianState(fog.client, code)) };
}
