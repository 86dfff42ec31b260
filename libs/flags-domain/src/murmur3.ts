/**
 * MurmurHash3, x86 32-bit flavour (Austin Appleby's public-domain algorithm), over the UTF-8
 * bytes of a string. Unleash buckets with this hash; see ../README.md for why UTF-8 matters.
 */

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

export function murmurHash3X86_32(input: string | Uint8Array, seed = 0): number {
  const bytes = typeof input === 'string' ? utf8Encode(input) : input;
  const blockEnd = bytes.length - (bytes.length % 4);
  let h = seed >>> 0;
  for (let i = 0; i < blockEnd; i += 4) {
    const block = bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    h ^= scrambleBlock(block);
    h = rotateLeft(h, 13);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  h ^= scrambleBlock(tailBlock(bytes, blockEnd));
  h ^= bytes.length;
  return finalMix(h) >>> 0;
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
    length += codePoint < 0x80 ? 1 : codePoint < 0x800 ? 2 : codePoint < 0x10000 ? 3 : 4;
  }
  return length;
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
  if (codePoint < 0x80) {
    out[at] = codePoint;
    return at + 1;
  }
  if (codePoint < 0x800) {
    out[at] = 0xc0 | (codePoint >> 6);
    out[at + 1] = 0x80 | (codePoint & 0x3f);
    return at + 2;
  }
  if (codePoint < 0x10000) {
    out[at] = 0xe0 | (codePoint >> 12);
    out[at + 1] = 0x80 | ((codePoint >> 6) & 0x3f);
    out[at + 2] = 0x80 | (codePoint & 0x3f);
    return at + 3;
  }
  out[at] = 0xf0 | (codePoint >> 18);
  out[at + 1] = 0x80 | ((codePoint >> 12) & 0x3f);
  out[at + 2] = 0x80 | ((codePoint >> 6) & 0x3f);
  out[at + 3] = 0x80 | (codePoint & 0x3f);
  return at + 4;
}
