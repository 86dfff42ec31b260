import { eventCatalog, upcastReleaseStepCompletedV1 } from '@rollgate/contracts';
import { parseCut, ReplayCutError, replay, orderEvents, type AuditEvent } from './replay';
import { releaseSubject, releaseView, type ReleaseAuditState } from './release-subject';
import { renderReportJson, renderReportText, replayReport } from './audit-subjects';
import { asLogged, releaseHistory } from './testing/release-history';

const START = Date.parse('2026-03-01T10:00:00.000Z');
const history = releaseHistory({ releaseId: 'r-1', service: 'checkout', start: START });
const logged = asLogged(history);
const other = asLogged(
  releaseHistory({ releaseId: 'r-2', service: 'payments', start: START + 500, fail: true }),
  1,
);

/** The same log read in another order of partitions and topics, with an outbox repeat. */
function shuffledRead(events: AuditEvent[]): AuditEvent[] {
  const byTopic = [...events].sort((a, b) =>
    a.position.topic === b.position.topic
      ? b.position.partition - a.position.partition
      : a.position.topic < b.position.topic
        ? 1
        : -1,
  );
  return [...byTopic, byTopic[3]!];
}

describe('replay of a release', () => {
  it('folds every topic of the release to its final state and ignores other releases', () => {
    const result = replay(releaseSubject('r-1'), [...other, ...logged]);
    const state = result.state;
    expect(result.totalEvents).toBe(history.length);
    expect(state.release?.phase).toBe('succeeded');
    expect(state.routes.map((r) => r.weights['canary'])).toEqual([5, 25, 50]);
    expect(state.analyses.map((a) => a.verdict?.verdict)).toEqual(['PASS', 'PASS', 'PASS']);
    expect(releaseView(state)).toMatchObject({
      id: 'r-1',
      service: 'checkout',
      phase: 'succeeded',
      step: 2,
      requestedBy: 'user:alice',
      requestedAt: history[0]!.occurredAt,
      updatedAt: history[history.length - 1]!.occurredAt,
    });
  });

  it('shows the weights and verdicts of the step that ran at a given moment', () => {
    const secondStep = history.find(
      (e) => e.type === 'ReleaseStepStarted' && (e.data as { step: number }).step === 1,
    )!;
    const secondRoute = history.find(
      (e) =>
        e.type === 'RouteApplied' &&
        (e.data as { weights: { canary: number } }).weights.canary === 25,
    )!;
    const at = new Date(Date.parse(secondRoute.occurredAt) + 500).toISOString();
    const { state, timeline } = replay(releaseSubject('r-1'), logged, parseCut({ at }));
    expect(state.release?.phase).toBe('progressing');
    expect(state.release?.step).toBe(1);
    expect(state.routes[state.routes.length - 1]!.weights).toEqual({
      stable: 50,
      baseline: 25,
      canary: 25,
    });
    expect(state.analyses.map((a) => a.verdict?.verdict ?? null)).toEqual(['PASS']);
    expect(timeline.every((e) => e.occurredAt <= at)).toBe(true);
    expect(timeline.some((e) => e.eventId === secondStep.id)).toBe(true);
  });

  it('stops after N events with --offset N, and --offset 0 is the empty state', () => {
    const three = replay(releaseSubject('r-1'), logged, parseCut({ offset: '3' }));
    expect(three.timeline.map((e) => e.type)).toEqual([
      'ReleaseRequested',
      'ReleaseStepStarted',
      'RouteChangeRequested',
    ]);
    expect(three.state.requestedWeights).toEqual({ stable: 90, baseline: 5, canary: 5 });
    expect(three.state.routes).toEqual([]);
    const none = replay(releaseSubject('r-1'), logged, parseCut({ offset: 0 }));
    expect(none.state.release).toBeNull();
    expect(none.timeline).toEqual([]);
  });

  it('explains each event: actor, what changed and why', () => {
    const { timeline } = replay(releaseSubject('r-2'), other);
    const scored = timeline.find(
      (e) => e.type === 'AnalysisIntervalScored' && e.details['verdict'] === 'FAIL',
    )!;
    expect(scored.actor).toBe('service:analysis');
    expect(scored.summary).toContain('canary 30/100 errors (30.00%)');
    expect(scored.reason).toBe('error-rate: canary 30% vs baseline 1%');
    const rollback = timeline.find((e) => e.type === 'ReleaseRollbackStarted')!;
    expect(rollback.reason).toBe('analysis FAIL at step 2');
    expect(rollback.changes).toContainEqual({
      field: 'phase',
      from: 'progressing',
      to: 'rolling-back',
    });
    const applied = timeline.find((e) => e.type === 'RouteApplied')!;
    expect(applied.changes).toContainEqual({
      field: 'weights',
      from: null,
      to: 'stable 90, baseline 5, canary 5',
    });
    expect(timeline[timeline.length - 1]!.changes).toContainEqual({
      field: 'phase',
      from: 'rolling-back',
      to: 'rolled-back',
    });
  });

  it('gives byte-identical JSON and text for two replays, whatever order the partitions were read in', () => {
    const first = replayReport({ kind: 'release', id: 'r-1' }, [...logged, ...other]);
    const second = replayReport(
      { kind: 'release', id: 'r-1' },
      shuffledRead([...other, ...logged]),
    );
    expect(renderReportJson(second)).toBe(renderReportJson(first));
    expect(renderReportText(second)).toBe(renderReportText(first));
    expect(second.timeline).toHaveLength(history.length);
    expect(renderReportText(first)).toContain(
      '#1 2026-03-01T10:00:01.000Z user:alice ReleaseRequested',
    );
  });

  it('keeps the log order of a partition even when its clock went backwards', () => {
    const [a, b] = logged;
    const skewed = { ...b!, event: { ...b!.event, occurredAt: '2026-03-01T09:00:00.000Z' } };
    expect(orderEvents(['rollgate.releases'], [skewed, a!]).map((e) => e.event.id)).toEqual([
      a!.event.id,
      b!.event.id,
    ]);
  });

  it('skips a repeated release event by sequence exactly like the read model', () => {
    const paused = {
      event: { ...logged[1]!.event, id: '019a0000-0000-7000-8000-00000000ffff' },
      position: { topic: 'rollgate.releases', partition: 0, offset: 999 },
    };
    const state = replay(releaseSubject('r-1'), [...logged, paused]).state as ReleaseAuditState;
    expect(state.release).toMatchObject({ phase: 'succeeded', step: 2, stepCompleted: true });
  });
});

describe('parseCut', () => {
  it('reads instants and offsets and refuses the rest with the field named', () => {
    expect(parseCut({})).toEqual({ kind: 'end' });
    expect(parseCut({ at: '2026-03-01T10:00:00+01:00' })).toEqual({
      kind: 'at',
      at: '2026-03-01T09:00:00.000Z',
    });
    expect(() => parseCut({ at: 'yesterday' })).toThrow(/^at: must be an ISO-8601 instant/);
    expect(() => parseCut({ at: '2026-03-01' })).toThrow(ReplayCutError);
    expect(() => parseCut({ offset: '-1' })).toThrow(/^offset: must be a whole number/);
    expect(() => parseCut({ offset: '1.5' })).toThrow(/^offset/);
    expect(() => parseCut({ at: '2026-03-01T10:00:00Z', offset: 1 })).toThrow(
      /either --at or --offset/,
    );
  });
});

describe('flags and migrations', () => {
  it('replay through the same engine by correlation id', () => {
    const report = replayReport({ kind: 'migration', id: 'm-1' }, [
      {
        event: {
          id: '019a0000-0000-7000-8000-000000000001',
          type: 'MigrationPlanned',
          version: 1,
          occurredAt: '2026-03-01T10:00:00.000Z',
          actor: 'user:bob',
          correlationId: 'm-1',
          causationId: null,
          key: 'checkout',
          data: { migrationId: 'm-1', service: 'checkout', database: 'db', operations: 2 },
        },
        position: { topic: 'rollgate.migrations', partition: 0, offset: 0 },
      },
    ]);
    expect(report.timeline).toHaveLength(1);
    expect(renderReportText(report)).toContain('operations: 2');
  });
});

describe('a log that holds both versions of ReleaseStepCompleted', () => {
  it('replays to the same state as an all-v2 log, through the upcaster', () => {
    const v1 = releaseHistory({
      releaseId: 'r-v',
      service: 'cart',
      start: START,
      stepCompletedVersion: 1,
    });
    const v2 = releaseHistory({ releaseId: 'r-v', service: 'cart', start: START });
    const cut = v1.findIndex((e) => e.type === 'ReleaseStepCompleted') + 1;
    // Old producers wrote the first step, new ones the rest; the log decodes like any consumer.
    const mixed = [...v1.slice(0, cut), ...v2.slice(cut)].map((e) =>
      eventCatalog.decode(JSON.stringify(e)),
    );
    expect(v1[cut - 1]).toMatchObject({
      version: 1,
      data: { evidence: 'analysis PASS (score 95)' },
    });
    expect(mixed[cut - 1]).toMatchObject({
      version: 2,
      data: { gate: { kind: 'analysis', evidence: 'analysis PASS (score 95)' } },
    });
    const fromMixed = replayReport({ kind: 'release', id: 'r-v' }, asLogged(mixed));
    const fromV2 = replayReport({ kind: 'release', id: 'r-v' }, asLogged(v2));
    expect(renderReportJson(fromMixed)).toBe(renderReportJson(fromV2));
    expect(fromMixed.view).toMatchObject({ phase: 'succeeded', step: 2, stepCompleted: true });
    const completed = fromMixed.timeline.filter((e) => e.type === 'ReleaseStepCompleted');
    expect(completed.map((e) => e.summary)).toEqual([
      'step 0 passed its analysis gate',
      'step 1 passed its analysis gate',
      'step 2 passed its analysis gate',
    ]);
  });

  it('reads the gate kind of every form v1 producers wrote, and unknown otherwise', () => {
    const upcast = (evidence: string) =>
      upcastReleaseStepCompletedV1({ releaseId: 'r', service: 's', step: 0, evidence }).gate.kind;
    expect(upcast('analysis PASS: no regression')).toBe('analysis');
    expect(upcast('promoted by user:alice')).toBe('promotion');
    expect(upcast('all canary, baseline instances healthy')).toBe('health');
    expect(upcast('blue kept warm for 300s')).toBe('warm');
    expect(upcast('looked fine')).toBe('unknown');
  });
});
