// Guards the published event contracts against the committed lock (libs/contracts/published-schemas.json).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalJson } from './compatibility';
import { PUBLISHED_EVENTS } from './registry';
import { buildLock, checkLock, LOCK_COMMAND, type SchemaLock } from './schema-lock';

const lock = JSON.parse(
  readFileSync(join(__dirname, '..', 'published-schemas.json'), 'utf8'),
) as SchemaLock;
const { problems, unlocked } = checkLock(lock, PUBLISHED_EVENTS);

describe('published event schemas', () => {
  it('keeps every locked version, compatible with what was published', () => {
    // An incompatible change needs a new version plus an upcaster, never an edit in place.
    expect(problems).toEqual([]);
  });

  it('has every definition in PUBLISHED_EVENTS in the lock', () => {
    const message = unlocked.map((key) => `${key} is not in the lock: run ${LOCK_COMMAND}`);
    expect(message).toEqual([]);
  });

  it('has the lock up to date with compatible changes too', () => {
    // Otherwise a later edit could undo a locked change unnoticed.
    const stale = canonicalJson(lock) !== canonicalJson(buildLock(PUBLISHED_EVENTS));
    expect(stale ? `the lock is out of date: run ${LOCK_COMMAND}` : 'up to date').toBe(
      'up to date',
    );
  });
});
