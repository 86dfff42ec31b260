import { renderHaproxyConfig } from './config';

describe('renderHaproxyConfig', () => {
  const config = renderHaproxyConfig({
    socketPath: '/tmp/rg/admin.sock',
    bindHost: '127.0.0.1',
    services: [
      {
        service: 'web',
        port: 18080,
        slots: [
          { group: 'stable', instance: { id: 's1', host: '10.0.0.1', port: 80 }, weight: 190 },
          { group: 'canary', instance: { id: 'c1', host: '10.0.0.2', port: 80 }, weight: 10 },
          undefined,
        ],
      },
      { service: 'profile', port: 18081, stickyHeader: 'x-user-id', slots: [undefined] },
    ],
  });

  it('opens an admin-level Runtime API socket', () => {
    expect(config).toContain('stats socket "/tmp/rg/admin.sock" mode 600 level admin');
  });

  it('declares one frontend per service on its port, pointing at its backend', () => {
    expect(config).toContain('frontend fe_web\n  bind 127.0.0.1:18080\n  default_backend be_web\n');
    expect(config).toContain(
      'frontend fe_profile\n  bind 127.0.0.1:18081\n  default_backend be_profile\n',
    );
  });

  it('writes one server per slot: instances with their weight, free slots disabled', () => {
    expect(config).toContain(
      [
        'backend be_web',
        '  balance roundrobin',
        '  server slot-01 10.0.0.1:80 weight 190',
        '  server slot-02 10.0.0.2:80 weight 10',
        '  server slot-03 0.0.0.0:0 weight 0 disabled',
      ].join('\n'),
    );
  });

  it('hashes a sticky service by its header with consistent hashing (weights stay dynamic)', () => {
    expect(config).toContain(
      'backend be_profile\n  balance hdr(x-user-id)\n  hash-type consistent\n',
    );
  });
});
