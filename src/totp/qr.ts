/**
 * A QR code encoder (ISO/IEC 18004:2015) for the one thing Warta draws: an otpauth:// key URI.
 * Byte mode, error correction level M, versions 1–40, all eight masks chosen by the standard
 * penalty score. No dependency: the QR code carries the shared secret, so it is drawn here.
 */

export interface QrCode {
  version: number;
  mask: number;
  /** Modules per side, without the quiet zone. */
  size: number;
  /** Row-major, 1 for a dark module. */
  modules: Uint8Array;
}

export interface QrOptions {
  /** The smallest version to use (tests pin one); the text decides when it needs a larger one. */
  minVersion?: number;
  /** 0–7; by default the mask with the lowest penalty (§7.8.3). */
  mask?: number;
}

export const MAX_VERSION = 40;

// Table 9, level M: error correction codewords per block and number of blocks, by version.
const ECC_CODEWORDS_PER_BLOCK = [0, 10, 16, 26, 18, 24, 16, 18, 22, 22, 26, 30, 22, 22, 24, 24, 28, 28, 26, 26, 26, 26, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28];
const ERROR_CORRECTION_BLOCKS = [0, 1, 1, 1, 2, 2, 4, 4, 4, 5, 5, 5, 8, 9, 9, 10, 10, 11, 13, 14, 16, 17, 17, 18, 20, 21, 23, 25, 26, 28, 29, 31, 33, 35, 37, 38, 40, 43, 45, 47, 49];
// Table 12: level M is indicator 00.
const LEVEL_M_FORMAT_BITS = 0b00;
const BYTE_MODE = 0b0100;

/** The most bytes of text a QR code at level M holds (version 40: 2331). */
export const MAX_BYTES = byteCapacity(MAX_VERSION);

export function encodeQr(text: string, options: QrOptions = {}): QrCode {
  const bytes = new TextEncoder().encode(text);
  const version = smallestVersionFor(bytes.length, options.minVersion ?? 1);
  const codewords = addErrorCorrection(dataCodewords(bytes, version), version);
  const grid = new QrGrid(version);
  grid.drawFunctionPatterns();
  grid.placeCodewords(codewords);
  if (options.mask !== undefined) {
    if (!Number.isInteger(options.mask) || options.mask < 0 || options.mask > 7) throw new RangeError(`QR mask ${options.mask} is not 0–7`);
    grid.applyMask(options.mask);
    return grid.toCode(options.mask);
  }
  let best = { mask: 0, penalty: Infinity };
  for (let mask = 0; mask < 8; mask++) {
    grid.applyMask(mask);
    const penalty = penaltyScore(grid.modules, grid.size);
    if (penalty < best.penalty) best = { mask, penalty };
    grid.applyMask(mask); // XOR again undoes it
  }
  grid.applyMask(best.mask);
  return grid.toCode(best.mask);
}

/**
 * The code as an SVG: one `<path>` of dark modules on a white square, with the four-module quiet
 * zone of §6.3.8, crisp edges so scaling does not blur module borders, and a title for screen readers.
 */
export function qrCodeSvg(code: QrCode, title: string): string {
  const quietZone = 4;
  const side = code.size + 2 * quietZone;
  const runs: string[] = [];
  for (let y = 0; y < code.size; y++) {
    for (let x = 0; x < code.size; x++) {
      if (!code.modules[y * code.size + x]) continue;
      let end = x;
      while (end + 1 < code.size && code.modules[y * code.size + end + 1]) end++;
      runs.push(`M${x + quietZone} ${y + quietZone}h${end - x + 1}v1H${x + quietZone}z`);
      x = end;
    }
  }
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${side} ${side}" shape-rendering="crispEdges" role="img">` +
    `<title>${escapeXml(title)}</title>` +
    `<path fill="#ffffff" d="M0 0h${side}v${side}H0z"/>` +
    `<path fill="#000000" d="${runs.join('')}"/>` +
    `</svg>`
  );
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function characterCountBits(version: number): number {
  return version <= 9 ? 8 : 16; // Table 3, byte mode
}

function byteCapacity(version: number): number {
  return Math.floor((dataCodewordCount(version) * 8 - 4 - characterCountBits(version)) / 8);
}

function smallestVersionFor(byteLength: number, minVersion: number): number {
  for (let version = Math.max(1, minVersion); version <= MAX_VERSION; version++) {
    if (byteLength <= byteCapacity(version)) return version;
  }
  throw new RangeError(`${byteLength} bytes do not fit in a QR code at level M (at most ${MAX_BYTES})`);
}

/** Modules left for codewords once the function patterns are drawn (§6.4.10), in whole codewords. */
function totalCodewordCount(version: number): number {
  let modules = (16 * version + 128) * version + 64;
  if (version >= 2) {
    const alignments = Math.floor(version / 7) + 2;
    modules -= (25 * alignments - 10) * alignments - 55;
    if (version >= 7) modules -= 36;
  }
  return Math.floor(modules / 8);
}

function dataCodewordCount(version: number): number {
  return totalCodewordCount(version) - ECC_CODEWORDS_PER_BLOCK[version]! * ERROR_CORRECTION_BLOCKS[version]!;
}

/** Mode indicator, count, the bytes, terminator, then the pad codewords of §7.4.10. */
function dataCodewords(bytes: Uint8Array, version: number): Uint8Array {
  const capacity = dataCodewordCount(version);
  const bits: number[] = [];
  const append = (value: number, length: number) => {
    for (let i = length - 1; i >= 0; i--) bits.push((value >>> i) & 1);
  };
  append(BYTE_MODE, 4);
  append(bytes.length, characterCountBits(version));
  for (const byte of bytes) append(byte, 8);
  append(0, Math.min(4, capacity * 8 - bits.length));
  append(0, (8 - (bits.length % 8)) % 8);
  const codewords = new Uint8Array(capacity);
  for (let i = 0; i < bits.length; i++) codewords[i >>> 3]! |= bits[i]! << (7 - (i & 7));
  for (let i = bits.length / 8, pad = 0xec; i < capacity; i++, pad ^= 0xec ^ 0x11) codewords[i] = pad;
  return codewords;
}

/** Splits into blocks (short ones first), adds Reed–Solomon codewords to each, interleaves (§7.6). */
function addErrorCorrection(data: Uint8Array, version: number): Uint8Array {
  const blockCount = ERROR_CORRECTION_BLOCKS[version]!;
  const eccLength = ECC_CODEWORDS_PER_BLOCK[version]!;
  const total = totalCodewordCount(version);
  const shortBlocks = blockCount - (total % blockCount);
  const shortDataLength = Math.floor(total / blockCount) - eccLength;
  const divisor = reedSolomonGenerator(eccLength);

  const dataBlocks: Uint8Array[] = [];
  const eccBlocks: Uint8Array[] = [];
  for (let block = 0, offset = 0; block < blockCount; block++) {
    const length = shortDataLength + (block < shortBlocks ? 0 : 1);
    const blockData = data.subarray(offset, offset + length);
    offset += length;
    dataBlocks.push(blockData);
    eccBlocks.push(reedSolomonRemainder(blockData, divisor));
  }

  const result = new Uint8Array(total);
  let at = 0;
  for (let i = 0; i <= shortDataLength; i++) {
    for (const block of dataBlocks) if (i < block.length) result[at++] = block[i]!;
  }
  for (let i = 0; i < eccLength; i++) {
    for (const block of eccBlocks) result[at++] = block[i]!;
  }
  return result;
}

/** Multiplication in GF(2^8) modulo x^8 + x^4 + x^3 + x^2 + 1 (0x11D), the field of §7.5.2. */
function gfMultiply(a: number, b: number): number {
  let product = 0;
  for (let i = 7; i >= 0; i--) {
    product = (product << 1) ^ ((product >>> 7) * 0x11d);
    product ^= ((b >>> i) & 1) * a;
  }
  return product;
}

/** The generator polynomial (x − α^0)(x − α^1)…(x − α^(degree−1)), without its leading 1. */
function reedSolomonGenerator(degree: number): Uint8Array {
  const coefficients = new Uint8Array(degree);
  coefficients[degree - 1] = 1;
  let root = 1;
  for (let i = 0; i < degree; i++) {
    for (let j = 0; j < degree; j++) {
      coefficients[j] = gfMultiply(coefficients[j]!, root);
      if (j + 1 < degree) coefficients[j]! ^= coefficients[j + 1]!;
    }
    root = gfMultiply(root, 0x02);
  }
  return coefficients;
}

function reedSolomonRemainder(data: Uint8Array, generator: Uint8Array): Uint8Array {
  const remainder = new Uint8Array(generator.length);
  for (const byte of data) {
    const factor = byte ^ remainder[0]!;
    remainder.copyWithin(0, 1);
    remainder[remainder.length - 1] = 0;
    for (let i = 0; i < remainder.length; i++) remainder[i]! ^= gfMultiply(generator[i]!, factor);
  }
  return remainder;
}

/** Centres of the alignment patterns along each axis (Annex E): 6, then evenly spaced to size − 7. */
export function alignmentPatternCentres(version: number): number[] {
  if (version === 1) return [];
  const count = Math.floor(version / 7) + 2;
  const size = version * 4 + 17;
  const step = Math.floor((version * 8 + count * 3 + 5) / (count * 4 - 4)) * 2;
  const centres = [6];
  for (let centre = size - 7; centres.length < count; centre -= step) centres.splice(1, 0, centre);
  return centres;
}

/** Mask conditions of Table 10, with i the row and j the column. */
function masked(mask: number, i: number, j: number): boolean {
  switch (mask) {
    case 0: return (i + j) % 2 === 0;
    case 1: return i % 2 === 0;
    case 2: return j % 3 === 0;
    case 3: return (i + j) % 3 === 0;
    case 4: return (Math.floor(i / 2) + Math.floor(j / 3)) % 2 === 0;
    case 5: return ((i * j) % 2) + ((i * j) % 3) === 0;
    case 6: return (((i * j) % 2) + ((i * j) % 3)) % 2 === 0;
    default: return (((i + j) % 2) + ((i * j) % 3)) % 2 === 0;
  }
}

class QrGrid {
  readonly size: number;
  readonly modules: Uint8Array;
  /** Finder, separator, timing, alignment, format and version modules: never data, never masked. */
  private readonly reserved: Uint8Array;

  constructor(readonly version: number) {
    this.size = version * 4 + 17;
    this.modules = new Uint8Array(this.size * this.size);
    this.reserved = new Uint8Array(this.size * this.size);
  }

  toCode(mask: number): QrCode {
    this.drawFormatBits(mask);
    return { version: this.version, mask, size: this.size, modules: this.modules };
  }

  drawFunctionPatterns(): void {
    for (let i = 0; i < this.size; i++) {
      this.setFunction(6, i, i % 2 === 0);
      this.setFunction(i, 6, i % 2 === 0);
    }
    this.drawFinder(3, 3);
    this.drawFinder(this.size - 4, 3);
    this.drawFinder(3, this.size - 4);
    const centres = alignmentPatternCentres(this.version);
    const last = centres.length - 1;
    for (let a = 0; a <= last; a++) {
      for (let b = 0; b <= last; b++) {
        // The three corners that hold a finder pattern have no alignment pattern.
        if ((a === 0 && b === 0) || (a === 0 && b === last) || (a === last && b === 0)) continue;
        this.drawAlignment(centres[a]!, centres[b]!);
      }
    }
    this.drawFormatBits(0); // reserves the format areas (and the dark module); the real bits come last
    this.drawVersionBits();
  }

  /** Data and error correction bits in two-column zigzags from the bottom right (§7.7.3). */
  placeCodewords(codewords: Uint8Array): void {
    let bit = 0;
    for (let right = this.size - 1; right >= 1; right -= 2) {
      if (right === 6) right = 5; // the vertical timing pattern
      const upward = ((right + 1) & 2) === 0;
      for (let step = 0; step < this.size; step++) {
        const y = upward ? this.size - 1 - step : step;
        for (let x = right; x >= right - 1; x--) {
          if (this.reserved[y * this.size + x]) continue;
          // Remainder bits past the last codeword stay light.
          if (bit < codewords.length * 8) this.modules[y * this.size + x] = (codewords[bit >>> 3]! >>> (7 - (bit & 7))) & 1;
          bit++;
        }
      }
    }
  }

  applyMask(mask: number): void {
    for (let y = 0; y < this.size; y++) {
      for (let x = 0; x < this.size; x++) {
        const index = y * this.size + x;
        if (!this.reserved[index] && masked(mask, y, x)) this.modules[index]! ^= 1;
      }
    }
    this.drawFormatBits(mask);
  }

  private setFunction(x: number, y: number, dark: boolean): void {
    this.modules[y * this.size + x] = dark ? 1 : 0;
    this.reserved[y * this.size + x] = 1;
  }

  /** The 7×7 finder with its light separator, clipped at the edges. */
  private drawFinder(cx: number, cy: number): void {
    for (let dy = -4; dy <= 4; dy++) {
      for (let dx = -4; dx <= 4; dx++) {
        const x = cx + dx;
        const y = cy + dy;
        if (x < 0 || y < 0 || x >= this.size || y >= this.size) continue;
        const ring = Math.max(Math.abs(dx), Math.abs(dy));
        this.setFunction(x, y, ring !== 2 && ring !== 4);
      }
    }
  }

  private drawAlignment(cx: number, cy: number): void {
    for (let dy = -2; dy <= 2; dy++) {
      for (let dx = -2; dx <= 2; dx++) this.setFunction(cx + dx, cy + dy, Math.max(Math.abs(dx), Math.abs(dy)) !== 1);
    }
  }

  /** Level and mask, BCH(15,5)-protected and masked with 101010000010010 (§7.9.1), in both copies. */
  private drawFormatBits(mask: number): void {
    const data = (LEVEL_M_FORMAT_BITS << 3) | mask;
    let remainder = data;
    for (let i = 0; i < 10; i++) remainder = (remainder << 1) ^ ((remainder >>> 9) * 0x537);
    const bits = ((data << 10) | remainder) ^ 0x5412;
    const bitAt = (i: number) => ((bits >>> i) & 1) === 1;

    for (let i = 0; i <= 5; i++) this.setFunction(8, i, bitAt(i));
    this.setFunction(8, 7, bitAt(6));
    this.setFunction(8, 8, bitAt(7));
    this.setFunction(7, 8, bitAt(8));
    for (let i = 9; i < 15; i++) this.setFunction(14 - i, 8, bitAt(i));

    for (let i = 0; i < 8; i++) this.setFunction(this.size - 1 - i, 8, bitAt(i));
    for (let i = 8; i < 15; i++) this.setFunction(8, this.size - 15 + i, bitAt(i));
    this.setFunction(8, this.size - 8, true); // the dark module
  }

  /** Versions 7 and up: the version number, BCH(18,6)-protected (§7.10, Annex D), in both corners. */
  private drawVersionBits(): void {
    if (this.version < 7) return;
    let remainder = this.version;
    for (let i = 0; i < 12; i++) remainder = (remainder << 1) ^ ((remainder >>> 11) * 0x1f25);
    const bits = (this.version << 12) | remainder;
    for (let i = 0; i < 18; i++) {
      const dark = ((bits >>> i) & 1) === 1;
      const a = this.size - 11 + (i % 3);
      const b = Math.floor(i / 3);
      this.setFunction(a, b, dark);
      this.setFunction(b, a, dark);
    }
  }
}

/**
 * The four penalties of §7.8.3.1 (Table 11), summed over the whole symbol: runs of five or more
 * same-coloured modules, 2×2 blocks, finder-like 1011101 patterns with four light modules on one
 * side, and the dark proportion's distance from half.
 */
export function penaltyScore(modules: Uint8Array, size: number): number {
  const at = (x: number, y: number) => modules[y * size + x]!;
  let penalty = 0;

  for (let line = 0; line < size; line++) {
    for (const horizontal of [true, false]) {
      let run = 0;
      let previous = -1;
      let window = 0;
      for (let i = 0; i < size; i++) {
        const module = horizontal ? at(i, line) : at(line, i);
        if (module === previous) run++;
        else {
          if (run >= 5) penalty += 3 + (run - 5);
          run = 1;
          previous = module;
        }
        window = ((window << 1) & 0x7ff) | module;
        if (i >= 10 && (window === 0b10111010000 || window === 0b00001011101)) penalty += 40;
      }
      if (run >= 5) penalty += 3 + (run - 5);
    }
  }

  for (let y = 0; y + 1 < size; y++) {
    for (let x = 0; x + 1 < size; x++) {
      const sum = at(x, y) + at(x + 1, y) + at(x, y + 1) + at(x + 1, y + 1);
      if (sum === 0 || sum === 4) penalty += 3;
    }
  }

  let dark = 0;
  for (const module of modules) dark += module;
  // k is how many whole 5% steps the dark proportion lies away from 50%.
  const k = Math.floor(Math.abs(dark * 100 - modules.length * 50) / (modules.length * 5));
  return penalty + 10 * k;
}
