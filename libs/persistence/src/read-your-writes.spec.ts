import { formatConsistencyToken, parseConsistencyToken } from './read-your-writes';

describe('consistency tokens', () => {
  it('round-trip through their header form, sorted so equal tokens are equal strings', () => {
    const token = [
      { topic: 'rollgate.releases', partition: 2, offset: 145 },
      { topic: 'rollgate.flags', partition: 0, offset: 12 },
    ];
    const text = formatConsistencyToken(token);
    expect(text).toBe('rollgate.flags:0:12,rollgate.releases:2:145');
    expect(parseConsistencyToken(text)).toEqual([token[1], token[0]]);
    expect(parseConsistencyToken(' rollgate.flags:0:12 , ')).toEqual([token[1]]);
  });

  it.each([
    '',
    ',',
    'rollgate.flags',
    'rollgate.flags:0',
    'rollgate.flags:-1:3',
    'rollgate.flags:0:1e3',
    "rollgate.flags'; DROP TABLE x:0:1",
    '__proto__:0:1:2',
    Array.from({ length: 65 }, (_, i) => `t:${i}:1`).join(','),
  ])('refuses %j', (text) => {
    expect(parseConsistencyToken(text)).toBeUndefined();
  });
});
