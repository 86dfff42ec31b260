import { endToEndHeaders } from './forward';

describe('endToEndHeaders', () => {
  it('drops hop-by-hop headers and the ones Connection names, keeps the rest', () => {
    expect(
      endToEndHeaders({
        connection: 'keep-alive, x-hop',
        'keep-alive': 'timeout=5',
        'transfer-encoding': 'chunked',
        'x-hop': '1',
        'x-user-id': 'u1',
        host: 'shop.example',
      }),
    ).toEqual({ 'x-user-id': 'u1', host: 'shop.example' });
  });
});
