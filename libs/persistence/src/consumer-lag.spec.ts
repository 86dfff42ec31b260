import type { EventLog } from '@rollgate/event-log';
import { ConsumerLagTracker } from './consumer-lag';
import type { ProjectionRunner } from './projection-runner';

/** A log whose end offsets and a consumer whose checkpoints the test moves by hand. */
function fixture() {
  const ends: Record<string, number[]> = { t: [0, 0] };
  const checkpoints = new Map<string, number>();
  let now = 1_000_000;
  const log = { endOffsets: async (topic: string) => ends[topic] ?? [] } as unknown as EventLog;
  const runner = {
    name: 'releases',
    topics: ['t'],
    checkpoints: async () => new Map(checkpoints),
  } as unknown as ProjectionRunner;
  const tracker = new ConsumerLagTracker(
    log,
    () => [runner],
    () => now,
  );
  return {
    tracker,
    ends,
    checkpoints,
    advance: (ms: number) => (now += ms),
  };
}

describe('ConsumerLagTracker', () => {
  it('reports nothing behind when every checkpoint is at the end', async () => {
    const { tracker, ends, checkpoints } = fixture();
    ends['t'] = [3, 0];
    checkpoints.set('t:0', 3);
    expect(await tracker.sample()).toEqual({
      releases: { events: 0, oldestUnprocessedSeconds: null },
    });
  });

  it('counts events behind over partitions and ages the oldest from when the end first passed it', async () => {
    const { tracker, ends, checkpoints, advance } = fixture();
    checkpoints.set('t:0', 2);
    ends['t'] = [2, 0];
    await tracker.sample(); // nothing behind yet
    advance(1000);
    ends['t'] = [3, 0]; // offset 2 appears now
    await tracker.sample();
    advance(4000);
    ends['t'] = [5, 4]; // more on both partitions
    const lag = await tracker.sample();
    // Partition 0: offsets 2..4 (3 events), the oldest seen 4 s ago; partition 1: 4 events, seen now.
    expect(lag['releases']).toEqual({ events: 7, oldestUnprocessedSeconds: 4 });
    checkpoints.set('t:0', 5);
    checkpoints.set('t:1', 4);
    advance(500);
    expect((await tracker.sample())['releases']).toEqual({
      events: 0,
      oldestUnprocessedSeconds: null,
    });
    expect(tracker.current()['releases']!.events).toBe(0);
  });

  it('ages a backlog found at start-up from the first sample', async () => {
    const { tracker, ends, advance } = fixture();
    ends['t'] = [10, 0];
    await tracker.sample();
    advance(2500);
    expect((await tracker.sample())['releases']).toEqual({
      events: 10,
      oldestUnprocessedSeconds: 2.5,
    });
  });
});
