import { eventCatalog, type EventEnvelope, type NewEvent } from '@rollgate/contracts';
import {
  decideCreateFlag,
  decideKill,
  decideSetRollout,
  decideUpdateEnvironment,
  evolveProjectFlags,
  initialProjectState,
  type ProjectFlagsState,
} from '@rollgate/flags-domain/project';
import { renderReportText, replayReport } from './audit-subjects';
import type { AuditEvent } from './replay';
import { asLogged, fixedId } from './testing/release-history';

/** Runs decisions of the flags domain and keeps the events as the log would hold them. */
function flagLog(): AuditEvent[] {
  let state: ProjectFlagsState = initialProjectState('default');
  const events: EventEnvelope[] = [];
  let clock = Date.parse('2026-02-01T09:00:00.000Z');
  const origin = { actor: 'user:carol', causationId: null };
  const commit = (decision: NewEvent[]) => {
    for (const input of decision) {
      clock += 60_000;
      const event = eventCatalog.create({
        ...input,
        id: fixedId(clock, events.length + 1),
        occurredAt: new Date(clock).toISOString(),
        sequence: events.length + 1,
      });
      events.push(event);
      state = evolveProjectFlags(state, event);
    }
  };
  const now = () => new Date(clock);
  commit(
    decideCreateFlag(
      state,
      { key: 'new-checkout', type: 'release', owner: 'team-pay', reason: 'launch' },
      origin,
      now(),
    ),
  );
  commit(
    decideCreateFlag(
      state,
      { key: 'other', type: 'release', owner: 'team-x', reason: 'unrelated' },
      origin,
      now(),
    ),
  );
  commit(
    decideUpdateEnvironment(
      state,
      {
        key: 'new-checkout',
        environment: 'production',
        config: { enabled: true },
        reason: 'go live',
        fleet: { ok: true, instances: [] },
      },
      origin,
    ),
  );
  commit(
    decideSetRollout(
      state,
      { key: 'new-checkout', environment: 'production', percentage: 10, reason: 'canary users' },
      origin,
    ),
  );
  commit(
    decideKill(
      state,
      { key: 'new-checkout', environment: 'production', reason: 'errors in checkout' },
      origin,
    ),
  );
  return asLogged(events);
}

describe('replay of a flag', () => {
  it('folds the flag with the flags domain and explains each change', () => {
    const log = flagLog();
    const report = replayReport({ kind: 'flag', id: 'new-checkout' }, log);
    expect(report.subject).toEqual({ kind: 'flag', id: 'new-checkout' });
    expect(report.timeline.map((e) => e.type)).toEqual([
      'FlagCreated',
      'FlagUpdated',
      'FlagUpdated',
      'FlagKilled',
    ]);
    const state = report.state as {
      flag: { definition: { environments: Record<string, { enabled: boolean }> } };
    };
    expect(state.flag.definition.environments['production']!.enabled).toBe(false);
    const kill = report.timeline[3]!;
    expect(kill).toMatchObject({
      actor: 'user:carol',
      summary: 'killed in production',
      reason: 'errors in checkout',
    });
    expect(kill.changes).toContainEqual({ field: 'production', from: 'on', to: 'off' });
    const before = replayReport({ kind: 'flag', id: 'default/new-checkout' }, log, {
      kind: 'offset',
      offset: 3,
    });
    expect(renderReportText(before)).toContain('production: on');
    expect(renderReportText(before)).toContain('production rollout');
  });
});
