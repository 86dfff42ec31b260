import { TOPICS, type EventEnvelope } from '@rollgate/contracts';
import type { LoggedEvent } from '@rollgate/event-log';
import type { EntityManager } from 'typeorm';
import { EventHandlerTable } from './event-handler-table';
import { EventLogContext } from './event-log.context';
import { eventTypesOn, readModelEvents } from './event-patterns';

const manager = {} as EntityManager;
const loggedOf = (type: string): LoggedEvent => ({
  event: { type, key: 'checkout' } as EventEnvelope,
  position: { topic: TOPICS.releases.name, partition: 2, offset: 7 },
  headers: { 'event-type': type },
});

describe('event-log patterns', () => {
  it('names the read model and the type, and refuses a type the catalog does not know', () => {
    expect(readModelEvents('releases', 'ReleaseRequested')).toEqual([
      { readModel: 'releases', type: 'ReleaseRequested' },
    ]);
    expect(() => readModelEvents('releases', 'ReleaseTeleported')).toThrow(
      'event type ReleaseTeleported is not in the contracts catalog',
    );
  });

  it('lists every type of a topic, and only those', () => {
    const types = eventTypesOn(TOPICS.releases);
    expect(types).toContain('ReleaseRequested');
    expect(types).toContain('ReleaseRolledBack');
    expect(types).not.toContain('RouteApplied');
  });
});

describe(EventHandlerTable.name, () => {
  it('groups handlers into read models with their topics, and calls only the one for the type', async () => {
    const table = new EventHandlerTable();
    const calls: [string, EventEnvelope, EventLogContext][] = [];
    const handler = (name: string) => async (event: EventEnvelope, context: EventLogContext) =>
      void calls.push([name, event, context]);
    for (const pattern of readModelEvents('signals', 'RouteApplied', 'AnalysisVerdictReached')) {
      table.addHandler(pattern, handler(`signals:${pattern.type}`), true);
    }
    table.addHandler(readModelEvents('releases', 'ReleaseRequested')[0], handler('releases'), true);

    const readModels = table.readModels();
    expect(readModels.map((r) => [r.name, r.topics])).toEqual([
      ['signals', [TOPICS.analysis.name, TOPICS.routing.name]],
      ['releases', [TOPICS.releases.name]],
    ]);
    const signals = readModels[0]!;
    const applied = loggedOf('RouteApplied');
    await signals.apply(manager, applied.event, applied);
    const skipped = loggedOf('RouteChangeRequested');
    await signals.apply(manager, skipped.event, skipped);
    expect(calls).toHaveLength(1);
    const [name, event, context] = calls[0]!;
    expect(name).toBe('signals:RouteApplied');
    expect(event).toBe(applied.event);
    expect(context.getManager()).toBe(manager);
    expect(context.getPosition()).toEqual(applied.position);
    expect(context.getHeaders()).toEqual({ 'event-type': 'RouteApplied' });
    expect(context.getReadModel()).toBe('signals');
  });

  it('fails with the handler error, so the batch rolls back', async () => {
    const table = new EventHandlerTable();
    const failing = async () => {
      throw new Error('no route');
    };
    table.addHandler(readModelEvents('signals', 'RouteApplied')[0], failing, true);
    const logged = loggedOf('RouteApplied');
    await expect(table.readModels()[0]!.apply(manager, logged.event, logged)).rejects.toThrow(
      'no route',
    );
  });

  it('refuses two handlers of one read model for one type, a request handler, and a bare pattern', () => {
    const noop = async () => undefined;
    const twice = new EventHandlerTable();
    const pattern = readModelEvents('releases', 'ReleaseRequested')[0];
    twice.addHandler(pattern, noop, true);
    twice.addHandler(pattern, async () => undefined, true);
    expect(() => twice.readModels()).toThrow('releases has two handlers for ReleaseRequested');

    const request = new EventHandlerTable();
    request.addHandler(pattern, noop, false);
    expect(() => request.readModels()).toThrow('use @EventPattern for ReleaseRequested');

    const bare = new EventHandlerTable();
    bare.addHandler('ReleaseRequested', noop, true);
    expect(() => bare.readModels()).toThrow(
      'event-log handler pattern ReleaseRequested is not readModelEvents(readModel, ...types)',
    );
  });
});
