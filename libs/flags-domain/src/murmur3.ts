/**
 * MurmurHash3, x86 32-bit flavour (Austin Appleby's public-domain algorithm), over the UTF-8
 * bytes of a string. Unleash buckets with this hash; see ../README.md for why UTF-8 matters.
 */

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

export function murmurHash3X86_32(input: string | Uint8Array, seed = 0): number {
  return typeof input === 'string' ? hashString(input, seed) : hashBytes(input, seed);
}

function hashBytes(bytes: Uint8Array, seed: number): number {
  const blockEnd = bytes.length - (bytes.length % 4);
  let h = seed >>> 0;
  for (let i = 0; i < blockEnd; i += 4) {
    const block = bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    h = mixBlock(h, block);
  }
  h ^= scrambleBlock(tailBlock(bytes, blockEnd));
  return finalMix(h ^ bytes.length) >>> 0;
}

/**
 * The same hash over the UTF-8 bytes of `text`. Keys are nearly always ASCII ("flag:user-42"),
 * where a character is a byte: four characters make a block, with no per-byte bookkeeping. The
 * first non-ASCII character sends the whole string to the general UTF-8 path.
 */
function hashString(text: string, seed: number): number {
  const length = text.length;
  const blockEnd = length - (length & 3);
  let h = seed >>> 0;
  let i = 0;
  for (; i < blockEnd; i += 4) {
    const c0 = text.charCodeAt(i);
    const c1 = text.charCodeAt(i + 1);
    const c2 = text.charCodeAt(i + 2);
    const c3 = text.charCodeAt(i + 3);
    if ((c0 | c1 | c2 | c3) >= 0x80) return hashUtf8String(text, seed);
    h = mixBlock(h, c0 | (c1 << 8) | (c2 << 16) | (c3 << 24));
  }
  let tail = 0;
  for (let k = length - 1; k >= i; k--) {
    const c = text.charCodeAt(k);
    if (c >= 0x80) return hashUtf8String(text, seed);
    tail = (tail << 8) | c;
  }
  h ^= scrambleBlock(tail);
  return finalMix(h ^ length) >>> 0;
}

/**
 * The general path: UTF-8 bytes produced on the fly, so no byte array is allocated.
 */
function hashUtf8String(text: string, seed: number): number {
  let h = seed >>> 0;
  let block = 0;
  let filled = 0;
  let length = 0;
  for (let i = 0; i < text.length; i++) {
    let codePoint = text.charCodeAt(i);
    if (codePoint >= 0x80) {
      codePoint = codePointAt(text, i);
      if (codePoint > 0xffff) i++;
    }
    const byteCount = utf8ByteCount(codePoint);
    for (let k = 0; k < byteCount; k++) {
      block |= utf8Byte(codePoint, byteCount, k) << (filled * 8);
      if (++filled === 4) {
        h = mixBlock(h, block);
        block = 0;
        filled = 0;
      }
    }
    length += byteCount;
  }
  h ^= scrambleBlock(block);
  return finalMix(h ^ length) >>> 0;
}

function mixBlock(h: number, block: number): number {
  h ^= scrambleBlock(block);
  h = rotateLeft(h, 13);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** The last 1-3 bytes, little-endian; 0 when there are none (and scrambling 0 gives 0). */
function tailBlock(bytes: Uint8Array, start: number): number {
  let block = 0;
  for (let i = bytes.length - 1; i >= start; i--) block = (block << 8) | bytes[i]!;
  return block;
}

function scrambleBlock(block: number): number {
  return Math.imul(rotateLeft(Math.imul(block, C1), 15), C2);
}

function rotateLeft(value: number, bits: number): number {
  return (value << bits) | (value >>> (32 - bits));
}

function finalMix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/**
 * UTF-8 encoding without TextEncoder, so the domain stays runtime-free; a lone surrogate becomes
 * U+FFFD, exactly as TextEncoder and Rust's String do.
 */
export function utf8Encode(text: string): Uint8Array {
  const out = new Uint8Array(utf8Length(text));
  let at = 0;
  for (let i = 0; i < text.length; i++) {
    const codePoint = codePointAt(text, i);
    if (codePoint > 0xffff) i++;
    at = writeCodePoint(out, at, codePoint);
  }
  return out;
}

function utf8Length(text: string): number {
  let length = 0;
  for (let i = 0; i < text.length; i++) {
    const codePoint = codePointAt(text, i);
    if (codePoint > 0xffff) i++;
    length += utf8ByteCount(codePoint);
  }
  return length;
}

function utf8ByteCount(codePoint: number): number {
  return codePoint < 0x80 ? 1 : codePoint < 0x800 ? 2 : codePoint < 0x10000 ? 3 : 4;
}

/** Byte `k` of the `count`-byte UTF-8 encoding of a code point. */
function utf8Byte(codePoint: number, count: number, k: number): number {
  if (count === 1) return codePoint;
  const shift = 6 * (count - 1 - k);
  if (k > 0) return 0x80 | ((codePoint >> shift) & 0x3f);
  const lead = count === 2 ? 0xc0 : count === 3 ? 0xe0 : 0xf0;
  return lead | (codePoint >> shift);
}

const REPLACEMENT_CHARACTER = 0xfffd;

/** The code point starting at `i`, with unpaired surrogates replaced. */
function codePointAt(text: string, i: number): number {
  const unit = text.charCodeAt(i);
  if (unit < 0xd800 || unit > 0xdfff) return unit;
  if (unit > 0xdbff) return REPLACEMENT_CHARACTER;
  const next = text.charCodeAt(i + 1);
  if (next >= 0xdc00 && next <= 0xdfff) return 0x10000 + ((unit - 0xd800) << 10) + (next - 0xdc00);
  return REPLACEMENT_CHARACTER;
}

function writeCodePoint(out: Uint8Array, at: number, codePoint: number): number {
  const count = utf8ByteCount(codePoint);
  for (let k = 0; k < count; k++) out[at + k] = utf8Byte(codePoint, count, k);
  return at + count;
}
