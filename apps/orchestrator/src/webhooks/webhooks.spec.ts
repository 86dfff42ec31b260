import { eventCatalog, type EventEnvelope } from '@rollgate/contracts';
import { RETRY_CAP_MS, retryDelayMs } from './backoff';
import { compileFilter, filterProblems, globToRegExp } from './event-filter';
import { slackMessage, webhookRequest } from './wire-format';

const published = [...new Set(eventCatalog.all().map((d) => d.type))];

const event = (type: string, data: Record<string, unknown>, key = 'checkout'): EventEnvelope => ({
  id: '0193a3c0-0000-7000-8000-000000000001',
  type,
  version: 1,
  occurredAt: '2026-12-06T03:00:00.000Z',
  actor: 'user:alice',
  correlationId: 'rel-1',
  causationId: null,
  key,
  data,
});

describe('event-type globs', () => {
  it('match whole types: * any run, ? one character, the rest literal', () => {
    expect(globToRegExp('Release*').test('ReleaseRequested')).toBe(true);
    expect(globToRegExp('Release*').test('FleetDriftDetected')).toBe(false);
    expect(globToRegExp('Release?equested').test('ReleaseRequested')).toBe(true);
    expect(globToRegExp('Release').test('ReleaseRequested')).toBe(false);
    expect(globToRegExp('a.b').test('axb')).toBe(false);
    expect(globToRegExp('*').test('anything')).toBe(true);
  });

  it('are refused with the index of the bad one: grammar, or matching no published type', () => {
    expect(filterProblems(['Release*', 'Flag*'], published, 'binary')).toEqual([]);
    expect(filterProblems(['Release*', 'Rel(ease'], published, 'binary')).toEqual([
      { field: 'types[1]', problem: expect.stringContaining('letters, digits') },
    ]);
    expect(filterProblems(['ReleaseRequestd'], published, 'binary')).toEqual([
      { field: 'types[0]', problem: expect.stringContaining('matches no published event type') },
    ]);
    expect(filterProblems([''], published, 'binary')[0]!.field).toBe('types[0]');
  });

  it('slack needs at least one release milestone', () => {
    expect(filterProblems(['Flag*'], published, 'slack')).toEqual([
      { field: 'types', problem: expect.stringContaining('release milestones only') },
    ]);
    expect(filterProblems(['*'], published, 'slack')).toEqual([]);
  });

  it('filter by type, service (data.service, else the key) and, for slack, milestones', () => {
    const all = compileFilter({ types: ['*'], service: null, format: 'binary' });
    const checkout = compileFilter({ types: ['Release*'], service: 'checkout', format: 'binary' });
    const slack = compileFilter({ types: ['*'], service: null, format: 'slack' });
    const requested = event('ReleaseRequested', { service: 'checkout' });
    expect(all(requested)).toBe(true);
    expect(checkout(requested)).toBe(true);
    expect(checkout(event('ReleaseRequested', { service: 'billing' }, 'checkout'))).toBe(false);
    expect(checkout(event('ReleasePaused', { reason: 'x' }, 'checkout'))).toBe(true);
    expect(checkout(event('FlagKilled', { service: 'checkout' }))).toBe(false);
    expect(slack(requested)).toBe(true);
    expect(slack(event('ReleaseStepStarted', { service: 'checkout' }))).toBe(false);
  });
});

describe('retry backoff', () => {
  it('doubles from 500 ms, half of it jittered, capped at 15 s', () => {
    const low = (attempt: number) => retryDelayMs(attempt, () => 0);
    const high = (attempt: number) => retryDelayMs(attempt, () => 1);
    expect([1, 2, 3, 4].map(low)).toEqual([250, 500, 1000, 2000]);
    expect([1, 2, 3, 4].map(high)).toEqual([500, 1000, 2000, 4000]);
    expect(high(6)).toBe(RETRY_CAP_MS);
    expect(high(60)).toBe(RETRY_CAP_MS);
    expect(low(60)).toBe(RETRY_CAP_MS / 2);
    const delays = Array.from({ length: 200 }, () => retryDelayMs(3));
    expect(new Set(delays).size).toBeGreaterThan(20);
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(1000);
    expect(Math.max(...delays)).toBeLessThanOrEqual(2000);
  });
});

describe('wire formats', () => {
  const requested = event('ReleaseRequested', {
    releaseId: 'rel-1',
    service: 'checkout',
    artifact: { name: 'checkout', digest: `sha256:${'a'.repeat(64)}` },
    strategy: 'canary',
    version: 'v2',
  });

  it('binary: ce-* headers, the envelope as JSON body', () => {
    const request = webhookRequest(requested, 'binary')!;
    expect(request.headers).toMatchObject({
      'content-type': 'application/json',
      'ce-specversion': '1.0',
      'ce-id': requested.id,
      'ce-type': 'rollgate.ReleaseRequested',
      'ce-source': '/rollgate/checkout',
      'ce-time': requested.occurredAt,
      'ce-subject': 'rel-1',
      'ce-correlationid': 'rel-1',
    });
    expect(request.headers['ce-causationid']).toBeUndefined();
    expect(JSON.parse(request.body)).toEqual(requested);
  });

  it('structured: one application/cloudevents+json document', () => {
    const request = webhookRequest({ ...requested, causationId: 'evt-0' }, 'structured')!;
    expect(request.headers['content-type']).toMatch(/^application\/cloudevents\+json/);
    expect(JSON.parse(request.body)).toMatchObject({
      specversion: '1.0',
      id: requested.id,
      type: 'rollgate.ReleaseRequested',
      datacontenttype: 'application/json',
      causationid: 'evt-0',
      data: { ...requested, causationId: 'evt-0' },
    });
  });

  it('slack: a text and blocks for milestones, escaped; nothing for other events', () => {
    expect(slackMessage(requested)!.text).toBe(
      ':rocket: Release of *checkout* v2 started (canary) by user:alice',
    );
    const rolledBack = slackMessage(
      event('ReleaseRolledBack', { releaseId: 'r', service: 'checkout', reason: 'p99 <b> & 5xx' }),
    )!;
    expect(rolledBack.text).toBe(
      ':rewind: Release of *checkout* rolled back: p99 &lt;b&gt; &amp; 5xx',
    );
    expect(rolledBack.blocks[0]).toEqual({
      type: 'section',
      text: { type: 'mrkdwn', text: rolledBack.text },
    });
    expect(
      slackMessage(event('ReleaseSucceeded', { service: 'checkout', reason: 'done' }))!.text,
    ).toMatch(/^:white_check_mark: Release of \*checkout\* succeeded: done$/);
    expect(
      slackMessage(
        event('FleetDriftDetected', {
          service: 'checkout',
          instanceId: 'i-1',
          intendedDigest: 'sha256:aa',
          reportedDigest: 'sha256:bb',
        }),
      )!.text,
    ).toBe(':warning: Drift on *checkout*: instance i-1 runs sha256:bb instead of sha256:aa');
    expect(
      webhookRequest(event('ReleaseStepStarted', { service: 'checkout' }), 'slack'),
    ).toBeNull();
  });
});
