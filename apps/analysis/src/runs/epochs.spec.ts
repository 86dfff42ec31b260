import { intervalAction } from './epochs';

describe('the interval in progress', () => {
  const bootedAt = 100_000;
  const at = (intervalStartedAt: number, now: number) =>
    intervalAction({ intervalStartedAt, bootedAt, now, intervalSeconds: 2 });

  it('is read once it is an interval old, and waited for until then', () => {
    expect(at(bootedAt + 500, bootedAt + 2_499)).toBe('wait');
    expect(at(bootedAt + 500, bootedAt + 2_500)).toBe('read');
  });

  it('is reopened, not read, when it began before this process started', () => {
    // Long overdue: reading it would score a stretch across the restart.
    expect(at(bootedAt - 60_000, bootedAt + 10)).toBe('reopen');
    // Not yet due by the clock, but still begun in an earlier life.
    expect(at(bootedAt - 1, bootedAt)).toBe('reopen');
  });

  it('times each interval from its own start, so a restart leaves no backlog to catch up on', () => {
    const reopenedAt = bootedAt + 50;
    expect(at(reopenedAt, reopenedAt + 250)).toBe('wait');
    expect(at(reopenedAt, reopenedAt + 2_000)).toBe('read');
  });
});
