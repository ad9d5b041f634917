// Renders Vega-Lite charts to PNG files: sim/chart.ts runs this as a child process and writes
// `{ jobs: [{ spec, file }] }` as JSON to its stdin. It is plain ESM JavaScript because vega and
// vega-lite ship only as ES modules, which neither CommonJS nor jest's module sandbox can import.
// A failure prints one line to stderr and exits 1; vega's warnings go to stderr too.
import { readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { text } from 'node:stream/consumers';
import { initWasm, Resvg } from '@resvg/resvg-wasm';
import * as vega from 'vega';
import { compile } from 'vega-lite';

/** resvg-wasm sees no system fonts: text is drawn only in fonts handed to it (bold for titles). */
const FONT = 'DejaVu Sans';

// Anything that fails before or between charts (wasm, fonts, the input) is one line too.
process.on('uncaughtException', (err) => {
    process.stderr.write(`chart renderer: ${err instanceof Error ? err.message : err}\n`);
    process.exit(1);
});

const require = createRequire(import.meta.url);
const [wasm, ...fonts] = await Promise.all(
    ['@resvg/resvg-wasm/index_bg.wasm', 'dejavu-fonts-ttf/ttf/DejaVuSans.ttf', 'dejavu-fonts-ttf/ttf/DejaVuSans-Bold.ttf'].map((name) =>
        readFile(require.resolve(name)),
    ),
);
await initWasm(wasm);
// Data may come from local files, never from the network.
const loader = vega.loader({ mode: 'file' });

const schema = require('vega-lite/vega-lite-schema.json').definitions;
const MARKS = new Set([...schema.Mark.enum, schema.BoxPlot.const, schema.ErrorBar.const, schema.ErrorBand.const]);

/**
 * The first mark type in the spec that Vega-Lite does not know. Vega-Lite does not check them: an
 * unknown one fails deep inside compile with "Cannot read properties of undefined".
 */
function unknownMark(node) {
    if (typeof node !== 'object' || node === null) return undefined;
    const type = typeof node.mark === 'string' ? node.mark : node.mark?.type;
    if (type !== undefined && !MARKS.has(type)) return type;
    for (const [key, value] of Object.entries(node)) {
        if (['data', 'datasets', 'config'].includes(key)) continue;
        const found = unknownMark(value);
        if (found !== undefined) return found;
    }
    return undefined;
}

const { jobs } = JSON.parse(await text(process.stdin));
for (const { spec, file } of jobs) {
    try {
        const mark = unknownMark(spec);
        if (mark !== undefined) throw new Error(`unknown mark "${mark}" (Vega-Lite has ${[...MARKS].join(', ')})`);
        const config = { font: FONT, ...spec.config };
        const runtime = vega.parse(compile({ ...spec, config }).spec);
        const view = new vega.View(runtime, { renderer: 'none', loader, logLevel: vega.Warn });
        const svg = await view.toSVG();
        view.finalize();
        const resvg = new Resvg(svg, { font: { fontBuffers: fonts, defaultFontFamily: FONT } });
        const image = resvg.render();
        await writeFile(file, image.asPng());
        image.free();
        resvg.free();
    } catch (err) {
        process.stderr.write(`chart ${file}: ${err instanceof Error ? err.message : err}\n`);
        process.exitCode = 1;
        break;
    }
}
