import { eventCatalog, type EventEnvelope, type NewEvent } from '@rollgate/contracts';
import { DomainError, fold } from '@rollgate/event-sourcing';
import {
  decideAbortRelease,
  decideRequestRelease,
  serviceReleases,
  type RequestRelease,
} from './service-releases';

const request = (releaseId: string): RequestRelease => ({
  releaseId,
  service: 'checkout',
  artifact: { name: 'checkout', digest: `sha256:${'c'.repeat(64)}` },
  strategy: 'canary',
  actor: 'user:alice',
  causationId: null,
});

const at = (events: NewEvent[], start = 0): EventEnvelope[] =>
  events.map((e, i) =>
    eventCatalog.create(
      { ...e, sequence: start + i + 1 },
      () => new Date(Date.UTC(2026, 0, 1, 0, i)),
    ),
  );

describe('service releases', () => {
  it('accepts a release on an idle service and records it as active', () => {
    const events = at(decideRequestRelease(serviceReleases.initial(), request('r1')));
    expect(events.map((e) => e.type)).toEqual(['ReleaseRequested']);
    expect(events[0]!.correlationId).toBe('r1');
    expect(fold(serviceReleases, events).active?.releaseId).toBe('r1');
  });

  it('refuses a second active release and names the active one', () => {
    const state = fold(
      serviceReleases,
      at(decideRequestRelease(serviceReleases.initial(), request('r1'))),
    );
    expect(() => decideRequestRelease(state, request('r2'))).toThrow(
      expect.objectContaining({
        code: 'conflict',
        details: { activeReleaseId: 'r1' },
      }) as DomainError,
    );
  });

  it('frees the service after an abort, and refuses aborting twice or an unknown release', () => {
    const first = at(decideRequestRelease(serviceReleases.initial(), request('r1')));
    const abort = {
      releaseId: 'r1',
      service: 'checkout',
      reason: 'bad build',
      actor: 'user:bob',
      causationId: null,
    };
    const aborted = [...first, ...at(decideAbortRelease(fold(serviceReleases, first), abort), 1)];
    const state = fold(serviceReleases, aborted);
    expect(state.active).toBeNull();
    expect(() => decideAbortRelease(state, abort)).toThrow(/not active/);
    expect(() => decideAbortRelease(state, { ...abort, releaseId: 'nope' })).toThrow(
      /does not exist/,
    );
    expect(decideRequestRelease(state, request('r2'))).toHaveLength(1);
  });
});
