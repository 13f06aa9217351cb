import jsQRModule from 'jsqr';

// jsqr is CommonJS whose types declare an ES default export: under NodeNext the import is the
// module object; at run time it is the function, which also carries itself as `default`.
const jsQR = jsQRModule.default;

/** Dark modules of a square QR symbol without its quiet zone, row-major, 1 = dark. */
export interface ModuleGrid {
  size: number;
  modules: Uint8Array;
}

/**
 * Reads a QR symbol the way a phone does: the modules are drawn as pixels inside a light quiet
 * zone and handed to jsQR, an independent decoder that locates the finders and corrects errors.
 * Returns the decoded bytes, or null when it cannot read the symbol.
 */
export function readQr(grid: ModuleGrid, pixelsPerModule = 3): Uint8Array | null {
  const quietZone = 4;
  const side = (grid.size + 2 * quietZone) * pixelsPerModule;
  const pixels = new Uint8ClampedArray(side * side * 4).fill(255);
  for (let y = 0; y < grid.size; y++) {
    for (let x = 0; x < grid.size; x++) {
      if (!grid.modules[y * grid.size + x]) continue;
      for (let dy = 0; dy < pixelsPerModule; dy++) {
        const row = (y + quietZone) * pixelsPerModule + dy;
        for (let dx = 0; dx < pixelsPerModule; dx++) {
          const offset = (row * side + (x + quietZone) * pixelsPerModule + dx) * 4;
          pixels[offset] = pixels[offset + 1] = pixels[offset + 2] = 0;
        }
      }
    }
  }
  const found = jsQR(pixels, side, side, { inversionAttempts: 'dontInvert' });
  return found ? Uint8Array.from(found.binaryData) : null;
}

/**
 * The module grid drawn by an SVG of the shape Warta serves: `viewBox="0 0 N N"`, a white
 * background path, and one path of dark rectangles `M x y h w v 1 H x z`, inside a quiet zone of 4.
 */
export function modulesOfSvg(svg: string): ModuleGrid {
  const side = Number(/viewBox="0 0 (\d+) \1"/.exec(svg)?.[1]);
  const dark = /<path fill="#000000" d="([^"]*)"\/>/.exec(svg)?.[1];
  if (!side || dark === undefined) throw new Error('not a QR code SVG of the expected shape');
  const size = side - 8;
  const modules = new Uint8Array(size * size);
  for (const [, x, y, width] of dark.matchAll(/M(\d+) (\d+)h(\d+)v1H\1z/g)) {
    for (let i = 0; i < Number(width); i++) modules[(Number(y) - 4) * size + Number(x) - 4 + i] = 1;
  }
  return { size, modules };
}
