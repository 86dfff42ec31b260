import type { EventEnvelope, NewEvent } from '@rollgate/contracts';
import {
  decideBackfillProgress,
  decidePhaseCompleted,
  decidePlan,
  decideStartPhase,
  parsePlan,
} from '@rollgate/migrations-domain';
import { migrationSubject } from './migration-subject';

describe('migration replay subject', () => {
  it('folds with the aggregate: the phase and backfill progress at each event', () => {
    const parsed = parsePlan({
      name: 'm1',
      service: 'accounts',
      versions: { old: ['1'], new: ['2'] },
      operations: [{ op: 'dropTable', table: 't' }],
    });
    if (!parsed.ok) throw new Error('plan');
    const subject = migrationSubject('m-1');
    const origin = { actor: 'a', causationId: null };
    let state = subject.initial();
    let n = 0;
    const apply = (events: NewEvent[]) => {
      for (const e of events) {
        const envelope = {
          ...e,
          id: `e${++n}`,
          occurredAt: '2026-01-01T00:00:00.000Z',
          sequence: n,
        } as EventEnvelope;
        expect(subject.belongs(envelope)).toBe(true);
        state = subject.evolve(state, envelope);
      }
    };
    apply(decidePlan(state, { migrationId: 'm-1', database: 'db', plan: parsed.plan }, origin));
    apply(decideStartPhase(state, 'expand', origin));
    apply(decidePhaseCompleted(state, 'expand', { statements: 2, lockRetries: 1 }, origin));
    apply(decideStartPhase(state, 'migrate', origin));
    apply(decideBackfillProgress(state, { table: 't', rowsDone: 500, rowsTotal: 1000 }, origin));
    expect(subject.digest(state)).toMatchObject({
      status: 'migrating',
      phase: 'migrate',
      'backfill.t': '500/1000',
      lockRetries: '1',
    });
  });
});
