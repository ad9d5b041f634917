/**
 * Charts for the economics simulation: Vega-Lite specs drawn to PNG files by vega and resvg
 * (WebAssembly) with a bundled font, so rendering needs no native binaries, no system fonts and no
 * network.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { ROOT } from '../client/paths';

/** One chart to draw. */
export interface ChartJob {
    /** A Vega-Lite spec; its data inline or in local files. */
    spec: object;
    /** The PNG file to write. */
    file: string;
    /** The whole image's width in pixels, axes and title included; the spec's own size if absent. */
    width?: number;
    /** The whole image's height in pixels, as for width. */
    height?: number;
}

const RENDERER = join(ROOT, 'sim', 'chart-render.mjs');

/**
 * Draws each job's spec to its PNG file, in order. vega and vega-lite are ES modules only, which
 * neither this CommonJS package nor jest's sandbox can import, so one child process,
 * sim/chart-render.mjs, draws the whole batch: pass all charts in one call, since starting it and
 * loading vega costs most of a second. Rejects with the renderer's message at the first chart that
 * fails (files before it are written); vega's warnings are passed on to stderr.
 */
export async function renderCharts(jobs: ChartJob[]): Promise<void> {
    const child = spawn(process.execPath, [RENDERER], { stdio: ['pipe', 'inherit', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    // A renderer that dies before reading its input breaks the pipe; its exit status reports why.
    child.stdin.on('error', () => {});
    child.stdin.end(JSON.stringify({ jobs: jobs.map(sized) }));
    const [code, signal] = await once(child, 'close');
    if (code !== 0) throw new Error(stderr.trim() || `chart renderer exited with ${code ?? signal}`);
    process.stderr.write(stderr);
}

/**
 * The job's spec at the requested size. Vega-Lite's width and height are the plot area's, and the
 * axes, legend and title add to them; autosize "fit" with "padding" makes them the image's instead.
 * Vega-Lite fits single and layered views only: it warns and keeps the spec's layout otherwise.
 */
function sized({ spec, file, width, height }: ChartJob): { spec: object; file: string } {
    if (width === undefined && height === undefined) return { spec, file };
    const type = width === undefined ? 'fit-y' : height === undefined ? 'fit-x' : 'fit';
    return { spec: { ...spec, width, height, autosize: { type, contains: 'padding' } }, file };
}
