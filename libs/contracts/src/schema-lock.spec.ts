import type { EventDefinition } from './definition';
import { ReleaseAbortedV1, ReleaseRequestedV1 } from './events/releases';
import { RouteAppliedV1 } from './events/routing';
import { buildLock, checkLock } from './schema-lock';

const definitions = [ReleaseRequestedV1, RouteAppliedV1, ReleaseAbortedV1] as EventDefinition[];

describe('schema lock', () => {
  it('orders entries by type, then numerically by version, and schema keys alphabetically', () => {
    const v10 = { ...ReleaseAbortedV1, version: 10 } as EventDefinition;
    const v2 = { ...ReleaseAbortedV1, version: 2 } as EventDefinition;
    const lock = buildLock([...definitions, v10, v2]);
    expect(Object.keys(lock)).toEqual([
      'ReleaseAborted@1',
      'ReleaseAborted@2',
      'ReleaseAborted@10',
      'ReleaseRequested@1',
      'RouteApplied@1',
    ]);
    expect(Object.keys(lock['ReleaseRequested@1']!.schema)).toEqual([
      'additionalProperties',
      'properties',
      'required',
      'type',
    ]);
    expect(lock['RouteApplied@1']!.topic).toBe('rollgate.routing');
  });

  it('finds nothing wrong when the definitions match the lock', () => {
    expect(checkLock(buildLock(definitions), definitions)).toEqual({ problems: [], unlocked: [] });
  });

  it('lists new versions as unlocked, not as problems', () => {
    const lock = buildLock([ReleaseRequestedV1] as EventDefinition[]);
    expect(checkLock(lock, definitions)).toEqual({
      problems: [],
      unlocked: ['ReleaseAborted@1', 'RouteApplied@1'],
    });
  });

  it('refuses a locked version that disappeared', () => {
    const lock = buildLock(definitions);
    const { problems } = checkLock(lock, [ReleaseRequestedV1, RouteAppliedV1] as EventDefinition[]);
    expect(problems).toEqual([
      'ReleaseAborted@1: published version was removed (the schema lock is append-only)',
    ]);
  });

  it('refuses an incompatible change of a locked version', () => {
    const lock = buildLock(definitions);
    lock['RouteApplied@1']!.schema['required'] = ['service', 'dataPlane'];
    expect(checkLock(lock, definitions).problems).toEqual([
      'RouteApplied@1: data.weights: became required',
    ]);
  });
});
