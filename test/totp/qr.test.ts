import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { alignmentPatternCentres, encodeQr, MAX_BYTES, MAX_VERSION, penaltyScore, qrCodeSvg } from '../../src/totp/qr.js';
import { modulesOfSvg, readQr } from '../support/qr-reader.js';

const reference = JSON.parse(readFileSync(new URL('./fixtures/qr-reference.json', import.meta.url), 'utf8')) as {
  byteCapacity: number[];
  symbols: { text: string; version: number; mask: number; sha256: string }[];
};

const utf8 = (text: string) => new TextEncoder().encode(text);
const sha256 = (modules: Uint8Array) => createHash('sha256').update(modules).digest('hex');

/** A deterministic stream (mulberry32), so a failing input can be made again from its seed. */
function randomSource(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const URI_CHARACTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~%:/?&=@ ';
const MULTIBYTE = ['ż', 'ó', 'ł', '€', '中', '😀'];

/** An otpauth:// URI of exactly `byteLength` UTF-8 bytes, with some multi-byte characters. */
function randomUriOfLength(byteLength: number, random: () => number): string {
  let text = 'otpauth://totp/'.slice(0, byteLength);
  let bytes = utf8(text).length;
  while (bytes < byteLength) {
    const wide = MULTIBYTE[Math.floor(random() * MULTIBYTE.length)]!;
    const next = random() < 0.1 && bytes + utf8(wide).length <= byteLength ? wide : URI_CHARACTERS[Math.floor(random() * URI_CHARACTERS.length)]!;
    text += next;
    bytes += utf8(next).length;
  }
  return text;
}

function expectReadBack(text: string, options: Parameters<typeof encodeQr>[1] = {}) {
  const code = encodeQr(text, options);
  expect(readQr(code), `${utf8(text).length} bytes, version ${code.version}, mask ${code.mask}`).toEqual(utf8(text));
  return code;
}

describe('QR encoder', () => {
  it('draws the same module matrix as the qrcode package for every version 1–40 and every mask', () => {
    expect(reference.symbols).toHaveLength(MAX_VERSION * 8);
    for (const { text, version, mask, sha256: expected } of reference.symbols) {
      const code = encodeQr(text, { minVersion: version, mask });
      expect({ version: code.version, mask: code.mask, size: code.size }).toEqual({ version, mask, size: version * 4 + 17 });
      expect(sha256(code.modules), `version ${version} mask ${mask}`).toBe(expected);
    }
  });

  it('holds the byte-mode capacities of level M for every version (ISO/IEC 18004 Table 7)', () => {
    expect(reference.byteCapacity.slice(0, 10)).toEqual([14, 26, 42, 62, 84, 106, 122, 152, 180, 213]);
    expect(MAX_BYTES).toBe(2331);
    reference.byteCapacity.forEach((capacity, index) => {
      const version = index + 1;
      expect(encodeQr('a'.repeat(capacity)).version).toBe(version);
      if (version < MAX_VERSION) expect(encodeQr('a'.repeat(capacity + 1)).version).toBe(version + 1);
    });
  });

  it('is read back by an independent decoder at both sides of every version boundary', () => {
    const random = randomSource(15);
    for (const capacity of reference.byteCapacity) {
      for (const length of [capacity, capacity + 1]) {
        if (length <= MAX_BYTES) expectReadBack(randomUriOfLength(length, random));
      }
    }
  });

  it('is read back for random key URIs of every length a key URI can have in practice, 1 to 600 bytes', () => {
    const random = randomSource(18004);
    for (let length = 1; length <= 600; length++) expectReadBack(randomUriOfLength(length, random));
  });

  it('is read back for random texts of lengths spread up to the largest QR code', () => {
    const random = randomSource(40);
    for (let i = 0; i < 40; i++) expectReadBack(randomUriOfLength(600 + Math.floor(random() * (MAX_BYTES - 600 + 1)), random));
    expectReadBack(randomUriOfLength(MAX_BYTES, random));
  });

  it('is read back under each of the eight masks, in small and large versions', () => {
    const random = randomSource(8);
    for (const version of [1, 2, 7, 10, 22, 40]) {
      for (let mask = 0; mask < 8; mask++) {
        const code = expectReadBack(randomUriOfLength(reference.byteCapacity[version - 1]!, random), { minVersion: version, mask });
        expect({ version: code.version, mask: code.mask }).toEqual({ version, mask });
      }
    }
  });

  it('chooses the mask with the lowest penalty, and each of the eight is chosen for some input', () => {
    const random = randomSource(7);
    const chosen = new Set<number>();
    for (let i = 0; i < 200 && chosen.size < 8; i++) {
      const text = randomUriOfLength(10 + Math.floor(random() * 200), random);
      const code = encodeQr(text);
      const penalties = Array.from({ length: 8 }, (_, mask) => penaltyScore(encodeQr(text, { mask }).modules, code.size));
      expect(penalties[code.mask]).toBe(Math.min(...penalties));
      expect(penalties.indexOf(Math.min(...penalties))).toBe(code.mask);
      chosen.add(code.mask);
    }
    expect([...chosen].sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('scores the four penalty rules as the standard does', () => {
    // 11×11, all light: each of the 22 lines is one run of 11 (3 + 6), 100 light 2×2 blocks (3 each),
    // no finder-like pattern, and 0% dark is ten 5% steps from half.
    expect(penaltyScore(new Uint8Array(121), 11)).toBe(22 * 9 + 100 * 3 + 10 * 10);
    // One row 10111010000 in an otherwise alternating checkerboard of rows: N3 counts that row once.
    const size = 11;
    const modules = new Uint8Array(size * size);
    for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) modules[y * size + x] = (x + y) % 2;
    const checkerboard = penaltyScore(modules, size);
    [1, 0, 1, 1, 1, 0, 1, 0, 0, 0, 0].forEach((module, x) => (modules[x] = module));
    const withFinderLikeRow = penaltyScore(modules, size);
    // The row keeps five dark modules and makes no run of five nor a one-colour 2×2 block: only N3's 40 is added.
    expect(withFinderLikeRow - checkerboard).toBe(40);
  });

  it('places alignment patterns where Annex E says', () => {
    expect(alignmentPatternCentres(1)).toEqual([]);
    expect(alignmentPatternCentres(2)).toEqual([6, 18]);
    expect(alignmentPatternCentres(7)).toEqual([6, 22, 38]);
    expect(alignmentPatternCentres(32)).toEqual([6, 34, 60, 86, 112, 138]);
    expect(alignmentPatternCentres(36)).toEqual([6, 24, 50, 76, 102, 128, 154]);
    expect(alignmentPatternCentres(40)).toEqual([6, 30, 58, 86, 114, 142, 170]);
  });

  it('refuses a text longer than the largest QR code holds', () => {
    expect(() => encodeQr('a'.repeat(MAX_BYTES + 1))).toThrow(RangeError);
    expect(() => encodeQr('ż'.repeat(MAX_BYTES / 2 + 1))).toThrow(RangeError);
  });

  it('draws an SVG whose dark path is the module matrix, with a quiet zone of four and a title', () => {
    const text = 'otpauth://totp/Warta:jan?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Warta';
    const code = encodeQr(text);
    const svg = qrCodeSvg(code, 'QR code <for> "Jan"');
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" viewBox="0 0 (\d+) \1" shape-rendering="crispEdges" role="img">/);
    expect(svg).toContain('<title>QR code &#60;for&#62; &#34;Jan&#34;</title>');
    const drawn = modulesOfSvg(svg);
    expect(drawn.size).toBe(code.size);
    expect(drawn.modules).toEqual(code.modules);
    expect(readQr(drawn)).toEqual(utf8(text));
  });
});
