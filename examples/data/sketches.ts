/**
 * The sketches the meme model learns from (docs/memes.md): 32×32 grey pictures of eight subjects
 * (cat, ghost, heart, star, sun, moon, house, tree), each drawn from shapes whose sizes, counts and
 * places vary at random (a cat's ears and eyes, a ghost's hem, a sun's rays, a crescent's bite, a
 * house's roof and door, a tree's tiers), then turned, scaled and moved at random and rendered with
 * 3×3 supersampling into 0..255 (the ink's coverage of each pixel). Only arithmetic (the sine is a
 * polynomial, no Math.sin), so every machine generates the same bytes from the same seed. Generated
 * when a training run is planned; nothing is shipped or downloaded.
 *
 * The samples use the dataset format of examples/data/digits.ts: 1,024 features, 8 classes (the
 * subjects, in SUBJECTS order), largest value 255. Subjects are shuffled, so any tail is a fair
 * held-out set.
 */
import { join } from 'node:path';
import { Dataset, rng } from './digits';
import { ROOT } from '../../client/paths';

export const SUBJECTS = ['cat', 'ghost', 'heart', 'star', 'sun', 'moon', 'house', 'tree'] as const;
export type Subject = (typeof SUBJECTS)[number];
export const SKETCH_SIDE = 32;

/** The shipped sketch model meme.ts draws with, and the record of the run on the network that trained it. */
export const MEME_MODEL_FILE = join(ROOT, 'examples', 'data', 'meme-model.bin');
export const MEME_RECORD_FILE = join(ROOT, 'examples', 'data', 'meme-model.bin.json');

const TAU = 2 * Math.PI;

/** sin(x) from + and × only: reduced to [−π/2, π/2], then its Taylor series to x¹¹. */
export function sine(x: number): number {
    x -= TAU * Math.floor(x / TAU + 0.5);
    if (x > Math.PI / 2) x = Math.PI - x;
    else if (x < -Math.PI / 2) x = -Math.PI - x;
    const x2 = x * x;
    return x * (1 - (x2 / 6) * (1 - (x2 / 20) * (1 - (x2 / 42) * (1 - (x2 / 72) * (1 - x2 / 110)))));
}
const cosine = (x: number) => sine(x + Math.PI / 2);

const square = (x: number) => x * x;

/** A shape in the subject's frame (u right, v down, about −1..1): whether (u, v) is inside, and a box around it. */
interface Shape {
    inside(u: number, v: number): boolean;
    box: [number, number, number, number];
}

const circle = (cx: number, cy: number, r: number): Shape => ({
    inside: (u, v) => square(u - cx) + square(v - cy) <= r * r,
    box: [cx - r, cy - r, cx + r, cy + r],
});
const ellipse = (cx: number, cy: number, rx: number, ry: number): Shape => ({
    inside: (u, v) => square((u - cx) / rx) + square((v - cy) / ry) <= 1,
    box: [cx - rx, cy - ry, cx + rx, cy + ry],
});
const box = (x0: number, y0: number, x1: number, y1: number): Shape => ({ inside: () => true, box: [x0, y0, x1, y1] });
/** A polygon, by the even-odd rule. */
const polygon = (points: [number, number][]): Shape => ({
    inside: (u, v) => {
        let inside = false;
        for (let i = 0, j = points.length - 1; i < points.length; j = i++) {
            const [xi, yi] = points[i];
            const [xj, yj] = points[j];
            if (yi > v !== yj > v && u < ((xj - xi) * (v - yi)) / (yj - yi) + xi) inside = !inside;
        }
        return inside;
    },
    box: [Math.min(...points.map((p) => p[0])), Math.min(...points.map((p) => p[1])), Math.max(...points.map((p) => p[0])), Math.max(...points.map((p) => p[1]))],
});
/** A segment from (ax, ay) to (bx, by) with round ends, `w` from its axis. */
const stroke = (ax: number, ay: number, bx: number, by: number, w: number): Shape => {
    const [dx, dy] = [bx - ax, by - ay];
    return {
        inside: (u, v) => {
            const t = Math.max(0, Math.min(1, ((u - ax) * dx + (v - ay) * dy) / (dx * dx + dy * dy)));
            return square(u - ax - t * dx) + square(v - ay - t * dy) <= w * w;
        },
        box: [Math.min(ax, bx) - w, Math.min(ay, by) - w, Math.max(ax, bx) + w, Math.max(ay, by) + w],
    };
};

/** A subject as shapes painted (ink) and cut (no ink) in order; `at(lo, hi)` draws a number between. */
function shapes(subject: Subject, at: (lo: number, hi: number) => number): [boolean, Shape][] {
    const paint = (s: Shape): [boolean, Shape] => [true, s];
    const cut = (s: Shape): [boolean, Shape] => [false, s];
    switch (subject) {
        case 'cat': {
            const [r, eyeY, eye, eyeX, ear] = [at(0.5, 0.62), at(0.05, 0.15), at(0.07, 0.11), at(0.2, 0.28), at(0.35, 0.55)];
            return [
                paint(circle(0, 0.15, r)),
                paint(polygon([[-r * 0.95, 0.05], [-r * 0.85, 0.15 - r - ear * 0.6], [-r * 0.2, 0.15 - r * 0.85]])),
                paint(polygon([[r * 0.95, 0.05], [r * 0.85, 0.15 - r - ear * 0.6], [r * 0.2, 0.15 - r * 0.85]])),
                cut(ellipse(-eyeX, eyeY, eye, eye * 1.3)),
                cut(ellipse(eyeX, eyeY, eye, eye * 1.3)),
                cut(polygon([[-0.07, 0.28], [0.07, 0.28], [0, 0.36]])),
            ];
        }
        case 'ghost': {
            const [w, top, bottom, eye] = [at(0.42, 0.55), at(-0.75, -0.55), at(0.6, 0.8), at(0.08, 0.13)];
            const bumps = 2 + Math.floor(at(0, 2.99));
            const hem = Array.from({ length: bumps }, (_, i) => cut(circle(-w + (2 * w * (i + 0.5)) / bumps, bottom + 0.02, (w / bumps) * 0.75)));
            return [
                paint(circle(0, top + w, w)),
                paint(box(-w, top + w, w, bottom)),
                ...hem,
                cut(ellipse(-w * 0.4, top + w, eye, eye * 1.6)),
                cut(ellipse(w * 0.4, top + w, eye, eye * 1.6)),
            ];
        }
        case 'heart': {
            const [r, y, tip] = [at(0.33, 0.42), at(-0.35, -0.2), at(0.6, 0.8)];
            return [paint(circle(-r * 0.95, y, r)), paint(circle(r * 0.95, y, r)), paint(polygon([[-r * 1.9, y + r * 0.3], [r * 1.9, y + r * 0.3], [0, tip]]))];
        }
        case 'star': {
            const [outer, inner, turn] = [at(0.85, 0.98), at(0.36, 0.44), at(-0.3, 0.3)];
            const points = Array.from({ length: 10 }, (_, i): [number, number] => {
                const [a, r] = [turn + (Math.PI * i) / 5 - Math.PI / 2, i % 2 ? outer * inner : outer];
                return [r * cosine(a), r * sine(a) + 0.05];
            });
            return [paint(polygon(points))];
        }
        case 'sun': {
            const [r, reach, w, turn] = [at(0.3, 0.4), at(0.75, 0.95), at(0.07, 0.11), at(0, 1)];
            const rays = 6 + 2 * Math.floor(at(0, 2.99));
            return [
                paint(circle(0, 0, r)),
                ...Array.from({ length: rays }, (_, i) => {
                    const a = (TAU * (i + turn)) / rays;
                    return paint(stroke(cosine(a) * (r + 0.12), sine(a) * (r + 0.12), cosine(a) * reach, sine(a) * reach, w));
                }),
            ];
        }
        case 'moon': {
            const [r, off, a, bite] = [at(0.6, 0.8), at(0.3, 0.5), at(-0.6, 0.6), at(0.8, 0.95)];
            return [paint(circle(0, 0, r)), cut(circle(off * cosine(a), off * sine(a) - 0.08, r * bite))];
        }
        case 'house': {
            const [w, h, roof, door] = [at(0.5, 0.65), at(0.35, 0.55), at(0.4, 0.6), at(0.1, 0.16)];
            const wall = 0.75 - 2 * h;
            return [
                paint(box(-w, wall, w, 0.75)),
                paint(polygon([[-w - 0.12, wall + 0.01], [w + 0.12, wall + 0.01], [0, wall - roof]])),
                cut(box(-door, 0.75 - h * 0.9, door, 0.76)),
                cut(box(w * 0.35, wall + 0.12, w * 0.35 + 0.18, wall + 0.3)),
            ];
        }
        case 'tree': {
            const [trunk, height, width] = [at(0.07, 0.12), at(0.2, 0.35), at(0.5, 0.7)];
            const tiers = 2 + Math.floor(at(0, 1.99));
            const [top, base] = [-0.85, 0.85 - height];
            return [
                paint(box(-trunk, base, trunk, 0.85)),
                ...Array.from({ length: tiers }, (_, i) => {
                    const [y0, y1] = [top + ((base - top) * i * 0.8) / tiers, top + ((base - top) * (i + 1)) / tiers + 0.05];
                    const half = width * (0.6 + (0.4 * (i + 1)) / tiers);
                    return paint(polygon([[0, y0], [-half, y1], [half, y1]]));
                }),
            ];
        }
    }
}

/** One 32×32 picture of `subject`, drawn with the randomness `r`. */
export function drawSketch(subject: Subject, r: () => number): Uint8Array {
    const at = (lo: number, hi: number) => lo + (hi - lo) * r();
    const parts = shapes(subject, at);
    // a turn of up to about ±23° (a rational rotation: no trigonometry), a scale and a shift
    const t = at(-0.2, 0.2);
    const [c, s] = [(1 - t * t) / (1 + t * t), (2 * t) / (1 + t * t)];
    const [scale, ox, oy] = [at(11, 14.5), 16 + at(-2.5, 2.5), 16 + at(-2.5, 2.5)];
    const image = new Uint8Array(SKETCH_SIDE * SKETCH_SIDE);
    const frame = (px: number, py: number) => [(c * px + s * py) / scale, (-s * px + c * py) / scale];
    const reach = 0.75 / scale; // a pixel's corners are within this of its centre, in the subject's frame
    for (let y = 0; y < SKETCH_SIDE; y++)
        for (let x = 0; x < SKETCH_SIDE; x++) {
            // only the shapes whose boxes the pixel touches
            const [uc, vc] = frame(x + 0.5 - ox, y + 0.5 - oy);
            const near = parts.filter(([, { box }]) => uc >= box[0] - reach && uc <= box[2] + reach && vc >= box[1] - reach && vc <= box[3] + reach);
            if (!near.some(([isPaint]) => isPaint)) continue;
            let ink = 0;
            for (let sy = 0; sy < 3; sy++)
                for (let sx = 0; sx < 3; sx++) {
                    const [u, v] = frame(x + (sx + 0.5) / 3 - ox, y + (sy + 0.5) / 3 - oy);
                    let on = false;
                    for (const [isPaint, { inside, box }] of near)
                        if (on !== isPaint && u >= box[0] && u <= box[2] && v >= box[1] && v <= box[3] && inside(u, v)) on = isPaint;
                    if (on) ink++;
                }
            image[y * SKETCH_SIDE + x] = Math.round((ink * 255) / 9);
        }
    return image;
}

/** `perSubject` sketches of each subject, shuffled, from `seed`. */
export function generateSketches(perSubject: number, seed: number): Dataset {
    const r = rng(seed);
    const samples: Dataset['samples'] = [];
    for (let i = 0; i < perSubject; i++) SUBJECTS.forEach((subject, label) => samples.push({ x: drawSketch(subject, r), label }));
    for (let i = samples.length - 1; i > 0; i--) {
        const j = Math.floor(r() * (i + 1));
        [samples[i], samples[j]] = [samples[j], samples[i]];
    }
    return { features: SKETCH_SIDE * SKETCH_SIDE, classes: SUBJECTS.length, maxValue: 255, samples };
}
