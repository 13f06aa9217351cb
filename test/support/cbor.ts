/**
 * The small, definite-length CBOR subset (RFC 8949) that WebAuthn attestation
 * objects and COSE keys use: integers, byte and text strings, arrays, maps,
 * booleans and null. Written for the tests so they need no CBOR package.
 */
export type CborValue = number | Uint8Array | string | boolean | null | CborValue[] | Map<CborValue, CborValue> | { [key: string]: CborValue };

function head(major: number, length: number): number[] {
  if (length < 24) return [(major << 5) | length];
  if (length < 0x100) return [(major << 5) | 24, length];
  if (length < 0x10000) return [(major << 5) | 25, length >> 8, length & 0xff];
  if (length < 0x100000000) return [(major << 5) | 26, (length >>> 24) & 0xff, (length >> 16) & 0xff, (length >> 8) & 0xff, length & 0xff];
  throw new Error('CBOR value too large for this encoder');
}

function encodeInto(out: number[], value: CborValue): void {
  if (value === null) out.push(0xf6);
  else if (value === true) out.push(0xf5);
  else if (value === false) out.push(0xf4);
  else if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new Error('only integers are supported');
    out.push(...(value >= 0 ? head(0, value) : head(1, -1 - value)));
  } else if (typeof value === 'string') {
    const bytes = new TextEncoder().encode(value);
    out.push(...head(3, bytes.length), ...bytes);
  } else if (value instanceof Uint8Array) out.push(...head(2, value.length), ...value);
  else if (Array.isArray(value)) {
    out.push(...head(4, value.length));
    for (const item of value) encodeInto(out, item);
  } else {
    const entries = value instanceof Map ? [...value.entries()] : Object.entries(value);
    out.push(...head(5, entries.length));
    for (const [key, item] of entries) {
      encodeInto(out, key);
      encodeInto(out, item);
    }
  }
}

export function encodeCbor(value: CborValue): Uint8Array {
  const out: number[] = [];
  encodeInto(out, value);
  return Uint8Array.from(out);
}

/** Decodes one item; maps with only text keys become plain objects, others Maps. */
export function decodeCbor(input: Uint8Array): CborValue {
  let offset = 0;
  const byte = () => {
    if (offset >= input.length) throw new Error('truncated CBOR');
    return input[offset++]!;
  };
  const length = (info: number): number => {
    if (info < 24) return info;
    const size = info === 24 ? 1 : info === 25 ? 2 : info === 26 ? 4 : 0;
    if (size === 0) throw new Error(`unsupported CBOR length encoding ${info}`);
    let n = 0;
    for (let i = 0; i < size; i++) n = n * 256 + byte();
    return n;
  };
  const item = (): CborValue => {
    const initial = byte();
    const major = initial >> 5;
    const info = initial & 0x1f;
    switch (major) {
      case 0:
        return length(info);
      case 1:
        return -1 - length(info);
      case 2:
      case 3: {
        const n = length(info);
        if (offset + n > input.length) throw new Error('truncated CBOR');
        const bytes = input.slice(offset, offset + n);
        offset += n;
        return major === 2 ? bytes : new TextDecoder().decode(bytes);
      }
      case 4:
        return Array.from({ length: length(info) }, item);
      case 5: {
        const map = new Map<CborValue, CborValue>();
        for (let n = length(info); n > 0; n--) map.set(item(), item());
        return [...map.keys()].every((k) => typeof k === 'string') ? Object.fromEntries(map as Map<string, CborValue>) : map;
      }
      case 7:
        if (info === 20) return false;
        if (info === 21) return true;
        if (info === 22) return null;
        throw new Error(`unsupported CBOR simple value ${info}`);
      default:
        throw new Error(`unsupported CBOR major type ${major}`);
    }
  };
  return item();
}
