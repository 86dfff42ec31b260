import { formatStatusTable, statusExitCode } from './format-status';
import type { ServiceStatus } from './probe-health';

const rows: ServiceStatus[] = [
  {
    service: 'orchestrator',
    url: 'http://127.0.0.1:7001',
    status: 'up',
    lag: '0',
    oldest: '-',
    detail: 'checks: service',
  },
  {
    service: 'flags',
    url: 'http://flags.internal',
    status: 'unreachable',
    lag: '-',
    oldest: '-',
    detail: 'ECONNREFUSED',
  },
];

describe('formatStatusTable', () => {
  it('aligns every column under its header', () => {
    expect(formatStatusTable(rows)).toBe(
      [
        'SERVICE       URL                    STATUS       LAG  OLDEST  DETAIL',
        'orchestrator  http://127.0.0.1:7001  up           0    -       checks: service',
        'flags         http://flags.internal  unreachable  -    -       ECONNREFUSED',
      ].join('\n'),
    );
  });

  it('prints only the header for no rows', () => {
    expect(formatStatusTable([])).toBe('SERVICE  URL  STATUS  LAG  OLDEST  DETAIL');
  });
});

describe('statusExitCode', () => {
  it('is 0 only when every service serves (up or degraded)', () => {
    expect(statusExitCode([rows[0]])).toBe(0);
    expect(statusExitCode(rows)).toBe(1);
    expect(statusExitCode([{ ...rows[0], status: 'down' }])).toBe(1);
    expect(statusExitCode([{ ...rows[0], status: 'starting' }])).toBe(1);
    expect(statusExitCode([{ ...rows[0], status: 'degraded' }])).toBe(0);
  });
});
