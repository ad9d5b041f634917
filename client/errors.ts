/**
 * Exit codes of Fog's contracts in words, taken from the generated wrappers (never copied by hand).
 */
import { FogToken } from '../wrappers/FogToken';
import { FogWallet } from '../wrappers/FogWallet';
import { PassCollection } from '../wrappers/PassCollection';
import { PassItem } from '../wrappers/PassItem';
import { Hub } from '../wrappers/Hub';
import { Provider } from '../wrappers/Provider';
import { Job } from '../wrappers/Job';
import { Epoch } from '../wrappers/Epoch';

const names = new Map<number, string>();
for (const table of [
    Hub.errors,
    Provider.errors,
    Job.errors,
    Epoch.errors,
    FogToken.errors,
    FogWallet.errors,
    PassCollection.errors,
    PassItem.errors,
]) {
    for (const [message, code] of Object.entries(table as Record<string, number>)) {
        const known = names.get(code);
        if (!known) names.set(code, message);
        else if (!known.split(' / ').includes(message)) names.set(code, `${known} / ${message}`);
    }
}

/** The reason behind a Fog contract's exit code, if it is one of theirs or a TVM code. */
export function exitCodeName(code: number): string | undefined {
    return names.get(code);
}
