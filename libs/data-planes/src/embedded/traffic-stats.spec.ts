import {
  LATENCY_BUCKET_BOUNDS_MS,
  TrafficRecorder,
  bucketIndex,
  diffTrafficStats,
} from './traffic-stats';

describe('latency buckets', () => {
  it('put a sample in the first bucket whose inclusive upper bound holds it', () => {
    expect(bucketIndex(0)).toBe(0);
    expect(bucketIndex(1)).toBe(0);
    expect(bucketIndex(1.01)).toBe(1);
    expect(bucketIndex(7)).toBe(LATENCY_BUCKET_BOUNDS_MS.indexOf(10));
    expect(bucketIndex(10_000)).toBe(LATENCY_BUCKET_BOUNDS_MS.length - 1);
    expect(bucketIndex(10_001)).toBe(LATENCY_BUCKET_BOUNDS_MS.length);
  });
});

describe('TrafficRecorder', () => {
  it('counts requests, 5xx errors and latencies per group, cumulatively', () => {
    const recorder = new TrafficRecorder('web');
    recorder.record('stable', 4, 200);
    recorder.record('stable', 12, 404);
    recorder.record('canary', 30, 500);
    recorder.record('canary', 70, 502);
    recorder.record('canary', 3, 200);

    const { groups } = recorder.snapshot();

    expect(groups.stable).toMatchObject({ requests: 2, errors: 0 });
    expect(groups.canary).toMatchObject({ requests: 3, errors: 2 });
    expect(groups.baseline).toMatchObject({ requests: 0, errors: 0 });
    expect(groups.canary.latency.sumMs).toBe(103);
    expect(groups.canary.latency.counts[LATENCY_BUCKET_BOUNDS_MS.indexOf(50)]).toBe(1);
    expect(groups.canary.latency.counts[LATENCY_BUCKET_BOUNDS_MS.indexOf(100)]).toBe(1);
    expect(groups.canary.latency.counts[LATENCY_BUCKET_BOUNDS_MS.indexOf(5)]).toBe(1);
  });

  it('snapshots are copies, and two of them diff into the traffic in between', () => {
    const recorder = new TrafficRecorder('web');
    recorder.record('canary', 5, 200);
    const before = recorder.snapshot();
    recorder.record('canary', 300, 503);
    recorder.record('stable', 8, 200);
    const after = recorder.snapshot();

    expect(before.groups.canary.requests).toBe(1);
    const window = diffTrafficStats(before, after);
    expect(window.groups.canary).toMatchObject({ requests: 1, errors: 1 });
    expect(window.groups.canary.latency.sumMs).toBe(300);
    expect(window.groups.canary.latency.counts[LATENCY_BUCKET_BOUNDS_MS.indexOf(500)]).toBe(1);
    expect(window.groups.canary.latency.counts.reduce((a, b) => a + b, 0)).toBe(1);
    expect(window.groups.stable.requests).toBe(1);
  });
});

describe('counter epochs', () => {
  it('name one life of the counters: a new recorder (a restarted proxy) is a new epoch', () => {
    const before = new TrafficRecorder('web');
    before.record('canary', 5, 200);
    const restarted = new TrafficRecorder('web');

    expect(before.snapshot().epoch).toBe(before.snapshot().epoch);
    expect(restarted.snapshot().epoch).not.toBe(before.snapshot().epoch);
    expect(() => diffTrafficStats(before.snapshot(), restarted.snapshot())).toThrow(
      /the counters restarted between the snapshots/,
    );
  });
});
