// meme: draws a meme picture for a prompt and outputs it as a PNG file, a function of the prompt
// only, so every worker produces the same bytes (integer arithmetic, and the model's f64 IEEE
// arithmetic with AssemblyScript's software Math.exp).
//
// Input: the prompt, UTF-8 text (may be empty); only its first 200 bytes are used, the rest is
// ignored. Two kinds of word are settings, not caption, and are taken out of it (any case):
//   seed:<n>   (n = 0..4294967295) which picture of the subject the model draws; without it, one
//              that comes from the prompt's hash;
//   style:art  the procedural art instead of the model (style:model, the default, is the model).
// The picture (docs/memes.md): with the model, a 32×32 sketch of a subject drawn by the conditional
// VAE the network trained (lib/vae.ts; its decoder's weights are built into this program from
// examples/data/meme-model.bin), on a latent point drawn from the seed at temperature 0.6, scaled up
// 12 times (bilinear), its contrast doubled (ink from a quarter to three quarters of the pixel's
// probability) and coloured: ink over a two-colour sky, in 16 levels. The subject is the
// first caption word that names one (cat/cats/kitty/kitten, ghost/ghosts/boo/spooky, heart/hearts/
// love, star/stars, sun/sunny/summer, moon/night, house/home, tree/trees/forest); with none, the
// prompt's hash picks it. The colours come from the prompt's hash. With style:art, procedural art
// (plasma, sunburst, ripples or waves, with translucent bubbles) whose palette and shapes come from
// the hash.
//
// The caption: the text is upper-cased and split into top and bottom text at the first '|';
// without a '|', a prompt of two or more words is split at the word boundary nearest the middle (by
// characters) and a single word goes on top. Runs of spaces, tabs and line breaks count as one
// space. ASCII 32..126 have glyphs (a 5×7 bitmap font, drawn for this program); every other
// character (a non-ASCII code point, a control character) is drawn as '?'. Each text block is
// word-wrapped, centred and drawn at the largest integer scale (2..9) that keeps it within about
// 30% of the height (48% at scale 2, where lines beyond that are dropped), white (palette index 1)
// with a black outline (palette index 0).
//
// Output: a 384×384 PNG, 8-bit palette (colour type 3; signature, IHDR, PLTE with 256 entries,
// one IDAT, IEND). Palette index 0 is black and 1 white, both used by the text only. The hash is a
// 64-bit FNV-1a of the prompt bytes used, settings taken out. The zlib stream is one fixed-
// Huffman deflate block from a greedy LZ77 (hash chains over a 32 KiB window); rows use filter
// type 0 (none) or 1 (sub), whichever has the smaller sum of absolute byte values.
import { read_input, write_output } from "./fog";
import { Rng } from "./lib/mlp";
import { draw, Vae } from "./lib/vae";
import { MODEL_C, MODEL_D, MODEL_H, MODEL_MAX, MODEL_Z, DECODER } from "./lib/meme-weights";

const W = 384;
const H = 384;
const MAX_PROMPT = 200;

// ---------------------------------------------------------------------------------------------
// Randomness: 64-bit FNV-1a of the prompt seeds a splitmix64 generator.

let rng: u64 = 0;

function next(): u32 {
  rng += 0x9E3779B97F4A7C15;
  let z = rng;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
  return <u32>((z ^ (z >> 31)) >> 32);
}

/** A number from 0 to n - 1. */
function rnd(n: i32): i32 {
  return <i32>(next() % <u32>n);
}

// ---------------------------------------------------------------------------------------------
// Integer trigonometry: angles in 1/1024 of a turn, sines scaled by 4096.

const SIN = new StaticArray<i32>(1024);

function initSin(): void {
  // Bhaskara I's approximation on each half turn: sin ≈ 16q / (5·512² − 4q), q = p(512 − p)
  for (let p = 0; p < 512; p++) {
    const q = <i64>(p * (512 - p));
    const v = <i32>((<i64>4096 * 16 * q) / (<i64>5 * 512 * 512 - 4 * q));
    SIN[p] = v;
    SIN[p + 512] = -v;
  }
}

function isin(p: i32): i32 {
  return unchecked(SIN[p & 1023]);
}

function isqrt(n: u32): u32 {
  let r: u32 = 0;
  let bit: u32 = 1 << 30;
  while (bit > n) bit >>= 2;
  while (bit != 0) {
    if (n >= r + bit) {
      n -= r + bit;
      r = (r >> 1) + bit;
    } else {
      r >>= 1;
    }
    bit >>= 2;
  }
  return r;
}

function dist(x: i32, y: i32, cx: i32, cy: i32): i32 {
  const dx = x - cx, dy = y - cy;
  return <i32>isqrt(<u32>(dx * dx + dy * dy));
}

/** The angle of (x, y), 0..1023 (atan(r) ≈ π/4·r + 0.273·r(1 − r) on the first octant). */
function iatan2(y: i32, x: i32): i32 {
  if (x == 0 && y == 0) return 0;
  const ax = abs(x), ay = abs(y);
  const mn = min(ax, ay), mx = max(ax, ay);
  const r = <i64>((<i64>mn << 12) / <i64>mx); // 0..4096
  let a = <i32>((r * 128 + (r * (4096 - r) * 445) / 40960) >> 12); // 0..128
  if (ay > ax) a = 256 - a;
  if (x < 0) a = 512 - a;
  if (y < 0) a = 1024 - a;
  return a & 1023;
}

// ---------------------------------------------------------------------------------------------
// Palette: 0 black, 1 white (the text), then NL gradient colours and NL shaded ones.

const NL = 120;
const BASE = 2;
const SHADE = BASE + NL;
const PLTE = new Uint8Array(768);

function hsv(h: i32, s: i32, v: i32, at: i32): void {
  h = ((h % 1536) + 1536) % 1536;
  const region = h >> 8, f = h & 255;
  const p = v * (255 - s) / 255;
  const q = v * (255 - s * f / 255) / 255;
  const t = v * (255 - s * (255 - f) / 255) / 255;
  let r = v, g = t, b = p;
  if (region == 1) { r = q; g = v; b = p; }
  else if (region == 2) { r = p; g = v; b = t; }
  else if (region == 3) { r = p; g = q; b = v; }
  else if (region == 4) { r = t; g = p; b = v; }
  else if (region == 5) { r = v; g = p; b = q; }
  PLTE[at] = <u8>r; PLTE[at + 1] = <u8>g; PLTE[at + 2] = <u8>b;
}

const KEYS = new Uint8Array(3 * 6);

function makePalette(): void {
  PLTE[3] = 255; PLTE[4] = 255; PLTE[5] = 255; // index 1 white; index 0 stays black
  const k = 3 + rnd(3);
  const h0 = rnd(1536);
  const scheme = rnd(4);
  const step = scheme == 0 ? 256 : scheme == 1 ? 512 : scheme == 2 ? 1536 / k : 96 + rnd(320);
  for (let i = 0; i < k; i++) {
    const bright = (i & 1) == 0;
    hsv(h0 + i * step + rnd(97) - 48, 150 + rnd(106), bright ? 205 + rnd(51) : 60 + rnd(100), 765);
    KEYS[3 * i] = PLTE[765]; KEYS[3 * i + 1] = PLTE[766]; KEYS[3 * i + 2] = PLTE[767];
  }
  for (let j = 0; j < NL; j++) {
    const pos = j * k * 256 / NL;
    const seg = pos >> 8, t = pos & 255, nxt = (seg + 1) % k;
    for (let c = 0; c < 3; c++) {
      const a = <i32>KEYS[3 * seg + c], b = <i32>KEYS[3 * nxt + c];
      PLTE[3 * (BASE + j) + c] = <u8>(a + (b - a) * t / 255);
    }
  }
  const shadeMode = rnd(3);
  for (let j = 0; j < NL; j++) {
    for (let c = 0; c < 3; c++) {
      const v = <i32>PLTE[3 * (BASE + j) + c];
      let s: i32;
      if (shadeMode == 0) s = v * 9 / 16;                                      // darker
      else if (shadeMode == 1) s = (v + 255 * 2) / 3;                          // paler
      else s = <i32>PLTE[3 * (BASE + (j + NL / 2) % NL) + c] * 13 / 16;       // opposite hue
      PLTE[3 * (SHADE + j) + c] = <u8>s;
    }
  }
  for (let i = SHADE + NL; i < 256; i++) { PLTE[3 * i] = 0; PLTE[3 * i + 1] = 0; PLTE[3 * i + 2] = 0; }
}

// ---------------------------------------------------------------------------------------------
// The background art: a level (0..NL-1) and a shade bit per pixel.

const PIX = new Uint8Array(W * H);

function makeArt(): void {
  const style = rnd(4);
  const q = 9 + rnd(14);               // posterization bands
  const cycles = 1 + rnd(2);           // how often the bands run through the palette
  const offset = rnd(NL);
  const cx = 64 + rnd(W - 128), cy = 64 + rnd(H - 128);
  const f1 = 1 + rnd(5), f2 = 1 + rnd(5), f3 = rnd(4), f4 = 2 + rnd(8);
  const p1 = rnd(1024), p2 = rnd(1024), p3 = rnd(1024), p4 = rnd(1024);
  const rays = 6 + 2 * rnd(10), twist = rnd(5) - 2, rot = rnd(1024);
  const cx2 = rnd(W), cy2 = rnd(H), cx3 = rnd(W), cy3 = rnd(H);
  const dx = rnd(9) - 4, dy = 1 + rnd(4), amp = 20 + rnd(60);
  const width = (14 + rnd(30)) * <i32>isqrt(<u32>(dx * dx + 4 * dy * dy)); // stripes 14..43 px apart
  const across = 40 * <i32>isqrt(<u32>(dx * dx + dy * dy));
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      let band = 0, shade = 0;
      if (style == 0) {        // plasma
        const v = isin(x * f1 + p1) + isin(y * f2 + p2) + isin(((x * f3 + y * (4 - f3)) >> 1) + p3) + isin(dist(x, y, cx, cy) * f4 + p4);
        band = ((v + 16384) * q) >> 15;
      } else if (style == 1) { // sunburst
        const d = dist(x, y, cx, cy);
        const a = iatan2(y - cy, x - cx) + rot + d * twist;
        shade = (((a & 1023) * rays) >> 10) & 1;
        band = d * q / 300;
      } else if (style == 2) { // ripples
        const v = isin(dist(x, y, cx, cy) * f4 + p1) + isin(dist(x, y, cx2, cy2) * (f4 + f1) + p2) + isin(dist(x, y, cx3, cy3) * (2 + f2) + p3);
        band = ((v + 12288) * q) / 24577;
      } else {                 // waves
        const u = x * dx + y * dy * 2 + (isin(x * f1 + y * f3 + p1) * amp >> 12) + (isin(y * f2 + p2) * amp >> 13);
        band = ((u + 4096 * 16) / width);
        shade = ((x * dy - y * dx + 4096 * 16) / across) & (f3 == 0 ? 1 : 0);
      }
      PIX[y * W + x] = <u8>(((band * NL * cycles / q + offset) % NL) | (shade << 7));
    }
  }
  // translucent bubbles: the shade bit flips inside, a ring of the opposite colour around
  const bubbles = rnd(3) == 0 ? 0 : 2 + rnd(7);
  for (let i = 0; i < bubbles; i++) {
    const bx = rnd(W), by = rnd(H), br = 16 + rnd(80);
    const ring = 2 + rnd(4);
    for (let y = max(0, by - br - ring); y < min(H, by + br + ring + 1); y++) {
      for (let x = max(0, bx - br - ring); x < min(W, bx + br + ring + 1); x++) {
        const d = dist(x, y, bx, by);
        const at = y * W + x;
        if (d < br) PIX[at] ^= 128;
        else if (d < br + ring) PIX[at] = <u8>(((<i32>(PIX[at] & 127) + NL / 2) % NL) | (PIX[at] & 128));
      }
    }
  }
  for (let i = 0; i < W * H; i++) {
    const v = <i32>PIX[i];
    PIX[i] = <u8>((v & 128) != 0 ? SHADE + (v & 127) : BASE + v);
  }
}

// ---------------------------------------------------------------------------------------------
// The font: 5×7 glyphs for ASCII 32..96 and 123..126 (lower case is drawn upper case), drawn for
// this program, seven rows each, '#' set.

const GLYPHS: StaticArray<string> = [
  // ' '
  ".....", ".....", ".....", ".....", ".....", ".....", ".....",
  // !
  "..#..", "..#..", "..#..", "..#..", "..#..", ".....", "..#..",
  // "
  ".#.#.", ".#.#.", ".....", ".....", ".....", ".....", ".....",
  // #
  ".#.#.", ".#.#.", "#####", ".#.#.", "#####", ".#.#.", ".#.#.",
  // $
  "..#..", ".####", "#.#..", ".###.", "..#.#", "####.", "..#..",
  // %
  "##...", "##..#", "...#.", "..#..", ".#...", "#..##", "...##",
  // &
  ".##..", "#..#.", "#.#..", ".#...", "#.#.#", "#..#.", ".##.#",
  // '
  "..#..", "..#..", ".#...", ".....", ".....", ".....", ".....",
  // (
  "...#.", "..#..", ".#...", ".#...", ".#...", "..#..", "...#.",
  // )
  ".#...", "..#..", "...#.", "...#.", "...#.", "..#..", ".#...",
  // *
  ".....", "..#..", "#.#.#", ".###.", "#.#.#", "..#..", ".....",
  // +
  ".....", "..#..", "..#..", "#####", "..#..", "..#..", ".....",
  // ,
  ".....", ".....", ".....", ".....", ".##..", "..#..", ".#...",
  // -
  ".....", ".....", ".....", "#####", ".....", ".....", ".....",
  // .
  ".....", ".....", ".....", ".....", ".....", ".##..", ".##..",
  // /
  ".....", "....#", "...#.", "..#..", ".#...", "#....", ".....",
  // 0
  ".###.", "#...#", "#..##", "#.#.#", "##..#", "#...#", ".###.",
  // 1
  "..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###.",
  // 2
  ".###.", "#...#", "....#", "...#.", "..#..", ".#...", "#####",
  // 3
  "#####", "...#.", "..#..", "...#.", "....#", "#...#", ".###.",
  // 4
  "...#.", "..##.", ".#.#.", "#..#.", "#####", "...#.", "...#.",
  // 5
  "#####", "#....", "####.", "....#", "....#", "#...#", ".###.",
  // 6
  "..##.", ".#...", "#....", "####.", "#...#", "#...#", ".###.",
  // 7
  "#####", "....#", "...#.", "..#..", ".#...", ".#...", ".#...",
  // 8
  ".###.", "#...#", "#...#", ".###.", "#...#", "#...#", ".###.",
  // 9
  ".###.", "#...#", "#...#", ".####", "....#", "...#.", ".##..",
  // :
  ".....", ".##..", ".##..", ".....", ".##..", ".##..", ".....",
  // ;
  ".....", ".##..", ".##..", ".....", ".##..", "..#..", ".#...",
  // <
  "...#.", "..#..", ".#...", "#....", ".#...", "..#..", "...#.",
  // =
  ".....", ".....", "#####", ".....", "#####", ".....", ".....",
  // >
  ".#...", "..#..", "...#.", "....#", "...#.", "..#..", ".#...",
  // ?
  ".###.", "#...#", "....#", "...#.", "..#..", ".....", "..#..",
  // @
  ".###.", "#...#", "....#", ".##.#", "#.#.#", "#.#.#", ".###.",
  // A
  ".###.", "#...#", "#...#", "#####", "#...#", "#...#", "#...#",
  // B
  "####.", "#...#", "#...#", "####.", "#...#", "#...#", "####.",
  // C
  ".###.", "#...#", "#....", "#....", "#....", "#...#", ".###.",
  // D
  "###..", "#..#.", "#...#", "#...#", "#...#", "#..#.", "###..",
  // E
  "#####", "#....", "#....", "####.", "#....", "#....", "#####",
  // F
  "#####", "#....", "#....", "####.", "#....", "#....", "#....",
  // G
  ".###.", "#...#", "#....", "#.###", "#...#", "#...#", ".####",
  // H
  "#...#", "#...#", "#...#", "#####", "#...#", "#...#", "#...#",
  // I
  ".###.", "..#..", "..#..", "..#..", "..#..", "..#..", ".###.",
  // J
  "..###", "...#.", "...#.", "...#.", "...#.", "#..#.", ".##..",
  // K
  "#...#", "#..#.", "#.#..", "##...", "#.#..", "#..#.", "#...#",
  // L
  "#....", "#....", "#....", "#....", "#....", "#....", "#####",
  // M
  "#...#", "##.##", "#.#.#", "#.#.#", "#...#", "#...#", "#...#",
  // N
  "#...#", "#...#", "##..#", "#.#.#", "#..##", "#...#", "#...#",
  // O
  ".###.", "#...#", "#...#", "#...#", "#...#", "#...#", ".###.",
  // P
  "####.", "#...#", "#...#", "####.", "#....", "#....", "#....",
  // Q
  ".###.", "#...#", "#...#", "#...#", "#.#.#", "#..#.", ".##.#",
  // R
  "####.", "#...#", "#...#", "####.", "#.#..", "#..#.", "#...#",
  // S
  ".####", "#....", "#....", ".###.", "....#", "....#", "####.",
  // T
  "#####", "..#..", "..#..", "..#..", "..#..", "..#..", "..#..",
  // U
  "#...#", "#...#", "#...#", "#...#", "#...#", "#...#", ".###.",
  // V
  "#...#", "#...#", "#...#", "#...#", "#...#", ".#.#.", "..#..",
  // W
  "#...#", "#...#", "#...#", "#.#.#", "#.#.#", "#.#.#", ".#.#.",
  // X
  "#...#", "#...#", ".#.#.", "..#..", ".#.#.", "#...#", "#...#",
  // Y
  "#...#", "#...#", ".#.#.", "..#..", "..#..", "..#..", "..#..",
  // Z
  "#####", "....#", "...#.", "..#..", ".#...", "#....", "#####",
  // [
  ".###.", ".#...", ".#...", ".#...", ".#...", ".#...", ".###.",
  // \
  ".....", "#....", ".#...", "..#..", "...#.", "....#", ".....",
  // ]
  ".###.", "...#.", "...#.", "...#.", "...#.", "...#.", ".###.",
  // ^
  "..#..", ".#.#.", "#...#", ".....", ".....", ".....", ".....",
  // _
  ".....", ".....", ".....", ".....", ".....", ".....", "#####",
  // `
  ".#...", "..#..", "...#.", ".....", ".....", ".....", ".....",
  // {
  "...##", "..#..", "..#..", ".#...", "..#..", "..#..", "...##",
  // |
  "..#..", "..#..", "..#..", "..#..", "..#..", "..#..", "..#..",
  // }
  "##...", "..#..", "..#..", "...#.", "..#..", "..#..", "##...",
  // ~
  ".....", ".....", ".#...", "#.#.#", "...#.", ".....", ".....",
];

const FONT = new Uint8Array(69 * 7); // a byte per glyph row, bit 4 the leftmost column

function initFont(): void {
  for (let i = 0; i < 69 * 7; i++) {
    const row = GLYPHS[i];
    let bits = 0;
    for (let c = 0; c < 5; c++) bits = (bits << 1) | (row.charCodeAt(c) == 35 ? 1 : 0);
    FONT[i] = <u8>bits;
  }
}

/** The glyph of a (normalized, upper-case) character code. */
function glyphOf(c: i32): i32 {
  if (c >= 32 && c <= 96) return c - 32;
  if (c >= 123 && c <= 126) return c - 123 + 65;
  return 63 - 32; // '?'
}

// ---------------------------------------------------------------------------------------------
// The text: normalized to upper-case ASCII with single spaces, split, wrapped, drawn.

const TEXT = new Uint8Array(MAX_PROMPT + 2);
let textLen = 0;
const MAX_LINES = 64;
const LINE_START = new Int32Array(MAX_LINES);
const LINE_END = new Int32Array(MAX_LINES);
let lineCount = 0;
let brokeWord = false; // the last wrap had to break a word
const MASK = new Uint8Array(W * H); // 1 = text fill, 2 = outline

function normalize(prompt: Uint8Array, n: i32): void {
  textLen = 0;
  let space = true; // drops leading spaces
  for (let i = 0; i < n; i++) {
    let c = <i32>prompt[i];
    if (c >= 0x80 && c < 0xC0) continue;         // a UTF-8 continuation byte: part of the '?' before
    if (c == 32 || c == 9 || c == 10 || c == 13) {
      if (!space) TEXT[textLen++] = 32;
      space = true;
      continue;
    }
    if (c >= 97 && c <= 122) c -= 32;
    else if (c < 32 || c >= 127) c = 63;        // a control character or a non-ASCII code point
    TEXT[textLen++] = <u8>c;
    space = false;
  }
  if (textLen > 0 && TEXT[textLen - 1] == 32) textLen--;
}

/** Wraps TEXT[a..b) into lines of at most `cols` characters; returns how many lines. */
function wrap(a: i32, b: i32, cols: i32): i32 {
  lineCount = 0;
  brokeWord = false;
  let pos = a;
  while (pos < b && lineCount < MAX_LINES) {
    if (TEXT[pos] == 32) { pos++; continue; }
    let end = pos + cols;
    if (end >= b) {
      LINE_START[lineCount] = pos; LINE_END[lineCount++] = b;
      break;
    }
    let brk = -1;
    for (let j = end; j > pos; j--) if (TEXT[j] == 32) { brk = j; break; }
    if (brk < 0) {                                 // a word longer than the line: break it
      LINE_START[lineCount] = pos; LINE_END[lineCount++] = end;
      pos = end;
      brokeWord = true;
    } else {
      LINE_START[lineCount] = pos; LINE_END[lineCount++] = brk;
      pos = brk + 1;
    }
  }
  return lineCount;
}

const MARGIN = 8;

function outlineOf(s: i32): i32 {
  return s / 3 + 1;
}

/** How many characters fit on a line at scale s. */
function columns(s: i32): i32 {
  // a line of n characters is n·6s − s + s/3 wide (the last column bold), plus the outline
  return (W - 2 * MARGIN - 2 * outlineOf(s) + s - s / 3) / (6 * s);
}

/** Draws TEXT[a..b) at the top (or bottom) of the picture into MASK. */
function drawBlock(a: i32, b: i32, top: bool): void {
  // trim the block's own spaces
  while (a < b && TEXT[a] == 32) a++;
  while (b > a && TEXT[b - 1] == 32) b--;
  if (a >= b) return;
  // the largest scale at which the block fits in 30% of the height without breaking a word
  let s = 9;
  let lines = 0;
  for (; s >= 2; s--) {
    lines = wrap(a, b, columns(s));
    if (!brokeWord && lines * 9 * s - 2 * s + s / 3 <= H * 30 / 100) break;
  }
  if (s < 2) {
    // else scale 2, breaking words, in 48% of the height, dropping the lines beyond
    s = 2;
    lines = wrap(a, b, columns(s));
    const fit = (H * 48 / 100 + 2 * s) / (9 * s);
    if (lines > fit) lines = fit;
  }
  const r = outlineOf(s);
  const bold = s / 3;
  const lineH = 9 * s;
  const blockH = lines * lineH - 2 * s + bold;
  const y0 = top ? MARGIN + r : H - MARGIN - r - blockH;
  for (let l = 0; l < lines; l++) {
    const n = LINE_END[l] - LINE_START[l];
    const x0 = (W - (n * 6 * s - s + bold)) / 2;
    const y = y0 + l * lineH;
    for (let i = 0; i < n; i++) {
      const g = glyphOf(<i32>TEXT[LINE_START[l] + i]);
      const x = x0 + i * 6 * s;
      for (let row = 0; row < 7; row++) {
        const bits = <i32>FONT[g * 7 + row];
        for (let col = 0; col < 5; col++) {
          if ((bits & (16 >> col)) != 0) fillCell(x + col * s, y + row * s, s + bold, r);
        }
      }
    }
  }
}

/** Marks an s×s cell (a glyph pixel, made a third larger: bold) as text and a disc of radius r around it as outline. */
function fillCell(x: i32, y: i32, s: i32, r: i32): void {
  for (let yy = max(0, y - r); yy < min(H, y + s + r); yy++) {
    const dy = yy < y ? y - yy : yy >= y + s ? yy - (y + s - 1) : 0;
    for (let xx = max(0, x - r); xx < min(W, x + s + r); xx++) {
      const dx = xx < x ? x - xx : xx >= x + s ? xx - (x + s - 1) : 0;
      const at = yy * W + xx;
      if (dx == 0 && dy == 0) MASK[at] = 1;
      else if (dx * dx + dy * dy <= r * r + r && MASK[at] == 0) MASK[at] = 2;
    }
  }
}

/** Draws the caption: TEXT[0..textLen), as normalize() left it. */
function drawText(): void {
  let bar = -1;
  for (let i = 0; i < textLen; i++) if (TEXT[i] == 124) { bar = i; break; }
  if (bar >= 0) {
    drawBlock(0, bar, true);
    drawBlock(bar + 1, textLen, false);
  } else {
    // the space nearest the middle splits top from bottom; none: all on top
    let split = -1;
    for (let i = 0; i < textLen; i++) {
      if (TEXT[i] == 32 && (split < 0 || abs(2 * i - textLen) < abs(2 * split - textLen))) split = i;
    }
    if (split < 0) drawBlock(0, textLen, true);
    else {
      drawBlock(0, split, true);
      drawBlock(split + 1, textLen, false);
    }
  }
  for (let i = 0; i < W * H; i++) {
    const m = MASK[i];
    if (m == 1) PIX[i] = 1;
    else if (m == 2) PIX[i] = 0;
  }
}

// ---------------------------------------------------------------------------------------------
// PNG: CRC-32, Adler-32, and deflate with fixed Huffman codes over a greedy LZ77.

const CRC_TABLE = new Uint32Array(256);

function initCrc(): void {
  for (let n: u32 = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320 ^ (c >> 1) : c >> 1;
    CRC_TABLE[n] = c;
  }
}

const RAW_LEN = H * (W + 1);
const RAW = new Uint8Array(RAW_LEN);
// worst case: 9 bits a byte, plus headers, chunks and the palette
const OUT = new Uint8Array(RAW_LEN * 9 / 8 + 4096);
let outPos = 0;
let bitBuf: u32 = 0;
let bitCount: u32 = 0;

function putByte(b: u32): void {
  unchecked(OUT[outPos++] = <u8>b);
}

function putU32(v: u32): void {
  putByte(v >> 24); putByte(v >> 16); putByte(v >> 8); putByte(v);
}

function putBits(v: u32, n: u32): void {
  bitBuf |= v << bitCount;
  bitCount += n;
  while (bitCount >= 8) {
    putByte(bitBuf & 255);
    bitBuf >>= 8;
    bitCount -= 8;
  }
}

function reverse(v: u32, n: u32): u32 {
  let r: u32 = 0;
  for (let i: u32 = 0; i < n; i++) { r = (r << 1) | (v & 1); v >>= 1; }
  return r;
}

// fixed Huffman codes of the literal/length symbols, bit-reversed for LSB-first output
const LIT_CODE = new Uint32Array(288);
const LIT_BITS = new Uint32Array(288);
const LEN_BASE: StaticArray<i32> = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258];
const LEN_EXTRA: StaticArray<u32> = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
const DIST_BASE: StaticArray<i32> = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577];
const DIST_EXTRA: StaticArray<u32> = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];

function initHuffman(): void {
  for (let s: u32 = 0; s < 288; s++) {
    let code: u32, bits: u32;
    if (s < 144) { code = 0x30 + s; bits = 8; }
    else if (s < 256) { code = 0x190 + s - 144; bits = 9; }
    else if (s < 280) { code = s - 256; bits = 7; }
    else { code = 0xC0 + s - 280; bits = 8; }
    LIT_CODE[s] = reverse(code, bits);
    LIT_BITS[s] = bits;
  }
}

function putSymbol(s: i32): void {
  putBits(unchecked(LIT_CODE[s]), unchecked(LIT_BITS[s]));
}

function putMatch(len: i32, d: i32): void {
  let i = 28;
  while (LEN_BASE[i] > len) i--;
  putSymbol(257 + i);
  putBits(<u32>(len - LEN_BASE[i]), LEN_EXTRA[i]);
  let j = 29;
  while (DIST_BASE[j] > d) j--;
  putBits(reverse(<u32>j, 5), 5);
  putBits(<u32>(d - DIST_BASE[j]), DIST_EXTRA[j]);
}

const WSIZE = 32768;
const HASH_SIZE = 1 << 15;
const MAX_CHAIN = 48;
const HEAD = new Int32Array(HASH_SIZE);
const PREV = new Int32Array(WSIZE);

function hash3(i: i32): i32 {
  const v = (<u32>unchecked(RAW[i]) << 16) | (<u32>unchecked(RAW[i + 1]) << 8) | <u32>unchecked(RAW[i + 2]);
  return <i32>((v * 2654435761) >> 17);
}

function insert(i: i32): void {
  const h = hash3(i);
  unchecked(PREV[i & (WSIZE - 1)] = HEAD[h]);
  unchecked(HEAD[h] = i);
}

/** Deflates RAW into OUT: one final block with the fixed codes. */
function deflate(n: i32): void {
  HEAD.fill(-1);
  putBits(1, 1); // BFINAL
  putBits(1, 2); // BTYPE 01: fixed Huffman codes
  let i = 0;
  while (i < n) {
    let best = 0, bestDist = 0;
    if (i + 3 <= n) {
      const limit = min(258, n - i);
      let cand = unchecked(HEAD[hash3(i)]);
      let chain = 0;
      while (cand >= 0 && i - cand <= WSIZE && chain < MAX_CHAIN) {
        if (unchecked(RAW[cand + best]) == unchecked(RAW[i + best])) {
          let len = 0;
          while (len < limit && unchecked(RAW[cand + len]) == unchecked(RAW[i + len])) len++;
          if (len > best) {
            best = len; bestDist = i - cand;
            if (len == limit) break;
          }
        }
        const older = unchecked(PREV[cand & (WSIZE - 1)]);
        if (older >= cand) break;
        cand = older;
        chain++;
      }
      insert(i);
    }
    if (best >= 3) {
      putMatch(best, bestDist);
      for (let k = 1; k < best; k++) if (i + k + 3 <= n) insert(i + k);
      i += best;
    } else {
      putSymbol(<i32>RAW[i]);
      i++;
    }
  }
  putSymbol(256);
  if (bitCount > 0) putBits(0, 8 - bitCount);
}

function chunkStart(len: u32, type: string): i32 {
  putU32(len);
  const start = outPos;
  for (let i = 0; i < 4; i++) putByte(<u32>type.charCodeAt(i));
  return start;
}

function chunkEnd(start: i32): void {
  let c: u32 = 0xFFFFFFFF;
  for (let i = start; i < outPos; i++) c = CRC_TABLE[(c ^ <u32>OUT[i]) & 255] ^ (c >> 8);
  putU32(c ^ 0xFFFFFFFF);
}

/** Filters PIX into RAW: per row none or sub, whichever has the smaller sum of |signed byte|. */
function filterRows(): void {
  for (let y = 0; y < H; y++) {
    const row = y * W;
    let none = 0, sub = 0;
    for (let x = 0; x < W; x++) {
      const v = <i32>PIX[row + x];
      const d = <i32><i8>(v - (x > 0 ? <i32>PIX[row + x - 1] : 0));
      none += v < 128 ? v : 256 - v;
      sub += abs(d);
    }
    const useSub = sub < none;
    const at = y * (W + 1);
    RAW[at] = useSub ? 1 : 0;
    for (let x = 0; x < W; x++) {
      const v = <i32>PIX[row + x];
      RAW[at + 1 + x] = <u8>(useSub ? v - (x > 0 ? <i32>PIX[row + x - 1] : 0) : v);
    }
  }
}

function encodePng(): void {
  outPos = 0;
  putByte(0x89); putByte(0x50); putByte(0x4E); putByte(0x47);
  putByte(0x0D); putByte(0x0A); putByte(0x1A); putByte(0x0A);
  let c = chunkStart(13, "IHDR");
  putU32(W); putU32(H);
  putByte(8); putByte(3); putByte(0); putByte(0); putByte(0); // 8-bit palette, deflate, filters, no interlace
  chunkEnd(c);
  c = chunkStart(768, "PLTE");
  for (let i = 0; i < 768; i++) putByte(PLTE[i]);
  chunkEnd(c);
  filterRows();
  const lenAt = outPos;
  c = chunkStart(0, "IDAT"); // the length is patched below
  putByte(0x78); putByte(0x9C);
  deflate(RAW_LEN);
  let a: u32 = 1, b: u32 = 0;
  for (let i = 0; i < RAW_LEN; i++) {
    a = (a + <u32>RAW[i]) % 65521;
    b = (b + a) % 65521;
  }
  putU32((b << 16) | a);
  const len = <u32>(outPos - c - 4);
  OUT[lenAt] = <u8>(len >> 24); OUT[lenAt + 1] = <u8>(len >> 16); OUT[lenAt + 2] = <u8>(len >> 8); OUT[lenAt + 3] = <u8>len;
  chunkEnd(c);
  c = chunkStart(0, "IEND");
  chunkEnd(c);
}

// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------
// Settings in the prompt, and the subject.

/** The prompt with its setting words taken out, and what they said. */
const CLEAN = new Uint8Array(MAX_PROMPT);
let cleanLen = 0;
let seedGiven = false;
let seedValue: u64 = 0;
let artStyle = false;

function lower(c: i32): i32 {
  return c >= 65 && c <= 90 ? c + 32 : c;
}

/** Whether prompt[a..b) starts with the lower-case ASCII `word`, in any case. */
function startsWith(prompt: Uint8Array, a: i32, b: i32, word: string): bool {
  if (b - a < word.length) return false;
  for (let i = 0; i < word.length; i++) if (lower(<i32>prompt[a + i]) != word.charCodeAt(i)) return false;
  return true;
}

/** Reads one word, prompt[a..b); returns true if it was a setting (and takes it in). */
function setting(prompt: Uint8Array, a: i32, b: i32): bool {
  if (startsWith(prompt, a, b, "seed:") && b - a > 5 && b - a <= 15) {
    let v: u64 = 0;
    for (let i = a + 5; i < b; i++) {
      const c = <i32>prompt[i];
      if (c < 48 || c > 57) return false;
      v = v * 10 + <u64>(c - 48);
    }
    if (v > 0xFFFFFFFF) return false;
    seedGiven = true;
    seedValue = v;
    return true;
  }
  if (b - a == 9 && startsWith(prompt, a, b, "style:art")) { artStyle = true; return true; }
  if (b - a == 11 && startsWith(prompt, a, b, "style:model")) { artStyle = false; return true; }
  return false;
}

function isSpace(c: i32): bool {
  return c == 32 || c == 9 || c == 10 || c == 13;
}

/** Copies the prompt into CLEAN without its setting words (the spaces around them stay). */
function takeSettings(prompt: Uint8Array, n: i32): void {
  cleanLen = 0;
  let i = 0;
  while (i < n) {
    if (isSpace(<i32>prompt[i])) { CLEAN[cleanLen++] = prompt[i++]; continue; }
    let j = i;
    while (j < n && !isSpace(<i32>prompt[j])) j++;
    if (!setting(prompt, i, j)) for (let k = i; k < j; k++) CLEAN[cleanLen++] = prompt[k];
    i = j;
  }
}

// The words that name each subject, in the order of SUBJECTS in examples/data/sketches.ts.
const SUBJECT_WORDS: StaticArray<string> = [
  "CAT", "CATS", "KITTY", "KITTEN", "|",
  "GHOST", "GHOSTS", "BOO", "SPOOKY", "|",
  "HEART", "HEARTS", "LOVE", "|",
  "STAR", "STARS", "|",
  "SUN", "SUNNY", "SUMMER", "|",
  "MOON", "NIGHT", "|",
  "HOUSE", "HOME", "|",
  "TREE", "TREES", "FOREST", "|",
];

/** The subject the word TEXT[a..b) names, or -1. */
function subjectOf(a: i32, b: i32): i32 {
  let subject = 0;
  for (let w = 0; w < SUBJECT_WORDS.length; w++) {
    const word = SUBJECT_WORDS[w];
    if (word == "|") { subject++; continue; }
    if (word.length != b - a) continue;
    let same = true;
    for (let i = 0; i < word.length; i++) if (<i32>TEXT[a + i] != word.charCodeAt(i)) { same = false; break; }
    if (same) return subject;
  }
  return -1;
}

/** The first word of the normalized caption that names a subject (letters only count), or -1. */
function findSubject(): i32 {
  let i = 0;
  while (i < textLen) {
    const c = <i32>TEXT[i];
    if (c < 65 || c > 90) { i++; continue; }
    let j = i;
    while (j < textLen && <i32>TEXT[j] >= 65 && <i32>TEXT[j] <= 90) j++;
    const s = subjectOf(i, j);
    if (s >= 0) return s;
    i = j;
  }
  return -1;
}

// ---------------------------------------------------------------------------------------------
// The model's picture: the sketch scaled up and coloured.

const SIDE = 32;
const SCALE = 12; // 32 × 12 = 384
const INK_LEVELS = 16;
const SKY_BANDS = 15;
const SKETCH = new Uint8Array(SIDE * SIDE);

/** Palette: 0 black, 1 white, then SKY_BANDS bands of INK_LEVELS: sky colour (by height) blended towards the ink. */
function modelPalette(): void {
  PLTE[3] = 255; PLTE[4] = 255; PLTE[5] = 255;
  const hue = rnd(1536);
  const dark = rnd(2) == 0; // a dark sky under bright ink, or the other way round
  hsv(hue, 120 + rnd(100), dark ? 70 + rnd(50) : 215 + rnd(40), 765);
  const t0 = PLTE[765], t1 = PLTE[766], t2 = PLTE[767];
  hsv(hue + 96 + rnd(160), 100 + rnd(120), dark ? 30 + rnd(40) : 160 + rnd(60), 765);
  const b0 = PLTE[765], b1 = PLTE[766], b2 = PLTE[767];
  hsv(hue + 512 + rnd(512), 170 + rnd(86), dark ? 230 + rnd(26) : 40 + rnd(50), 765);
  const i0 = <i32>PLTE[765], i1 = <i32>PLTE[766], i2 = <i32>PLTE[767];
  for (let g = 0; g < SKY_BANDS; g++) {
    const s0 = <i32>t0 + (<i32>b0 - <i32>t0) * g / (SKY_BANDS - 1);
    const s1 = <i32>t1 + (<i32>b1 - <i32>t1) * g / (SKY_BANDS - 1);
    const s2 = <i32>t2 + (<i32>b2 - <i32>t2) * g / (SKY_BANDS - 1);
    for (let l = 0; l < INK_LEVELS; l++) {
      const at = 3 * (2 + g * INK_LEVELS + l);
      PLTE[at] = <u8>(s0 + (i0 - s0) * l / (INK_LEVELS - 1));
      PLTE[at + 1] = <u8>(s1 + (i1 - s1) * l / (INK_LEVELS - 1));
      PLTE[at + 2] = <u8>(s2 + (i2 - s2) * l / (INK_LEVELS - 1));
    }
  }
  for (let i = 2 + SKY_BANDS * INK_LEVELS; i < 256; i++) { PLTE[3 * i] = 0; PLTE[3 * i + 1] = 0; PLTE[3 * i + 2] = 0; }
}

/** The decoder built into this program (the encoder is not needed to draw). */
function decoder(): Vae {
  const m = new Vae(MODEL_D, MODEL_C, MODEL_H, MODEL_Z, MODEL_MAX, false);
  let at = 0;
  for (let i = 0; i < m.wd.length; i++) unchecked(m.wd[i] = DECODER[at++]);
  for (let i = 0; i < m.bd.length; i++) unchecked(m.bd[i] = DECODER[at++]);
  for (let i = 0; i < m.wo.length; i++) unchecked(m.wo[i] = DECODER[at++]);
  for (let i = 0; i < m.bo.length; i++) unchecked(m.bo[i] = DECODER[at++]);
  assert(at == DECODER.length, "meme: the built-in decoder does not match its sizes");
  return m;
}

/** Source coordinate of output pixel p along an axis, in 1/256 of a sketch pixel (centres aligned). */
function source(p: i32): i32 {
  return ((2 * p + 1) * 128) / SCALE - 128;
}

function makeModelArt(subject: i32, seed: u64): void {
  draw(decoder(), subject, new Rng(seed), 0.6, SKETCH, 0);
  for (let y = 0; y < H; y++) {
    const sy = source(y);
    const y0 = max(0, min(SIDE - 1, sy >> 8)), y1 = max(0, min(SIDE - 1, (sy >> 8) + 1)), fy = sy & 255;
    const band = y * SKY_BANDS / H;
    for (let x = 0; x < W; x++) {
      const sx = source(x);
      const x0 = max(0, min(SIDE - 1, sx >> 8)), x1 = max(0, min(SIDE - 1, (sx >> 8) + 1)), fx = sx & 255;
      const top = <i32>SKETCH[y0 * SIDE + x0] * (256 - fx) + <i32>SKETCH[y0 * SIDE + x1] * fx;
      const bottom = <i32>SKETCH[y1 * SIDE + x0] * (256 - fx) + <i32>SKETCH[y1 * SIDE + x1] * fx;
      const v = (top * (256 - fy) + bottom * fy) >> 16; // 0..255
      // more contrast: the ink rises from none to full between probabilities 1/4 and 3/4
      const ink = min(255, max(0, (v - 64) * 2));
      PIX[y * W + x] = <u8>(2 + band * INK_LEVELS + ink * INK_LEVELS / 256);
    }
  }
}

// ---------------------------------------------------------------------------------------------

export function run(): void {
  const prompt = new Uint8Array(MAX_PROMPT);
  let n: u32 = 0;
  while (true) {
    const got = read_input(prompt.dataStart + n, n, <u32>MAX_PROMPT - n);
    if (got == 0) break;
    n += got;
  }
  takeSettings(prompt, <i32>n);
  let h: u64 = 0xCBF29CE484222325;
  for (let i = 0; i < cleanLen; i++) h = (h ^ <u64>CLEAN[i]) * 0x100000001B3;
  rng = h;
  initSin();
  initFont();
  initCrc();
  initHuffman();
  normalize(CLEAN, cleanLen);
  if (artStyle) {
    makePalette();
    makeArt();
  } else {
    let subject = findSubject();
    if (subject < 0) subject = <i32>(h % <u64>MODEL_C);
    modelPalette();
    makeModelArt(subject, seedGiven ? seedValue : h >> 32);
  }
  drawText();
  encodePng();
  write_output(OUT.dataStart, <u32>outPos);
}
