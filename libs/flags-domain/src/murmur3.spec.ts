import fc from 'fast-check';
import vectors from '../test-vectors/bucketing.json';
import { murmurHash3X86_32, utf8Encode } from './murmur3';

const hexBytes = (hex: string) => Uint8Array.from(Buffer.from(hex, 'hex'));

describe('MurmurHash3 x86_32', () => {
  const cases = vectors.murmur3.map((vector) => {
    const label = 'inputHex' in vector ? `bytes ${vector.inputHex}` : JSON.stringify(vector.input);
    return [label, vector.seed, vector.hashHex, vector] as const;
  });

  it.each(cases)('hashes %s with seed %d to %s', (_label, _seed, _hex, vector) => {
    const input = 'inputHex' in vector ? hexBytes(vector.inputHex!) : vector.input!;
    expect(murmurHash3X86_32(input, vector.seed)).toBe(vector.hash);
    expect(vector.hash).toBe(Number(vector.hashHex));
  });

  it('reproduces the SMHasher verification value', () => {
    const key = new Uint8Array(256);
    const hashes = new Uint8Array(256 * 4);
    const view = new DataView(hashes.buffer);
    for (let i = 0; i < 256; i++) {
      key[i] = i;
      view.setUint32(i * 4, murmurHash3X86_32(key.subarray(0, i), 256 - i), true);
    }
    expect(murmurHash3X86_32(hashes, 0)).toBe(vectors.smhasherVerification.hash);
  });

  it('hashes a string as its UTF-8 bytes', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.nat(), (text, seed) => {
        const bytes = Uint8Array.from(Buffer.from(text, 'utf8'));
        expect(murmurHash3X86_32(text, seed)).toBe(murmurHash3X86_32(bytes, seed));
      }),
    );
  });

  it('hashes ASCII (the fast path) and ASCII broken by one non-ASCII character as UTF-8 bytes', () => {
    const ascii = fc.string({
      unit: fc.integer({ min: 0, max: 0x7f }).map((c) => String.fromCharCode(c)),
    });
    fc.assert(
      fc.property(
        ascii,
        ascii,
        fc.constantFrom('', 'é', '€', '😀'),
        fc.nat(),
        (a, b, odd, seed) => {
          const text = a + odd + b;
          const bytes = Uint8Array.from(Buffer.from(text, 'utf8'));
          expect(murmurHash3X86_32(text, seed)).toBe(murmurHash3X86_32(bytes, seed));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('always returns an unsigned 32-bit integer', () => {
    fc.assert(
      fc.property(fc.string(), fc.integer({ min: 0, max: 0xffffffff }), (text, seed) => {
        const hash = murmurHash3X86_32(text, seed);
        expect(Number.isInteger(hash) && hash >= 0 && hash <= 0xffffffff).toBe(true);
      }),
    );
  });

  it('treats seeds modulo 2^32, as the C reference does with uint32_t', () => {
    expect(murmurHash3X86_32('', -1)).toBe(murmurHash3X86_32('', 0xffffffff));
  });
});

describe('utf8Encode', () => {
  it('encodes one to four byte characters', () => {
    expect([...utf8Encode('aø€😊')]).toEqual([
      0x61, 0xc3, 0xb8, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x8a,
    ]);
  });

  it('replaces lone surrogates with U+FFFD, as TextEncoder does', () => {
    expect([...utf8Encode('\ud800x\udc00')]).toEqual([0xef, 0xbf, 0xbd, 0x78, 0xef, 0xbf, 0xbd]);
  });

  it('agrees with TextEncoder on any sequence of UTF-16 code units', () => {
    const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((unit) => String.fromCharCode(unit));
    fc.assert(
      fc.property(fc.string({ unit: codeUnit }), (text) => {
        expect([...utf8Encode(text)]).toEqual([...new TextEncoder().encode(text)]);
      }),
    );
  });
});
