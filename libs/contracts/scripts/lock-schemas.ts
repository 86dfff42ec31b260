// `npm run contracts:lock`: records every published event schema in published-schemas.json.
// Adds new versions and compatible changes; refuses removals and incompatible changes.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as prettier from 'prettier';
import { PUBLISHED_EVENTS } from '../src/registry';
import { buildLock, checkLock, type SchemaLock } from '../src/schema-lock';

const LOCK_FILE = join(__dirname, '..', 'published-schemas.json');

async function main(): Promise<void> {
  const locked: SchemaLock = existsSync(LOCK_FILE)
    ? (JSON.parse(readFileSync(LOCK_FILE, 'utf8')) as SchemaLock)
    : {};
  const { problems, unlocked } = checkLock(locked, PUBLISHED_EVENTS);
  if (problems.length > 0) {
    console.error('Refusing to update the schema lock; a published version must not change:');
    for (const problem of problems) console.error(`  - ${problem}`);
    console.error('Publish a new version (with an upcaster) instead.');
    process.exitCode = 1;
    return;
  }
  // Formatted like the rest of the repo, so `prettier --check` stays green.
  const options = await prettier.resolveConfig(LOCK_FILE);
  const text = await prettier.format(JSON.stringify(buildLock(PUBLISHED_EVENTS)), {
    ...options,
    filepath: LOCK_FILE,
  });
  writeFileSync(LOCK_FILE, text);
  console.log(
    `Wrote ${LOCK_FILE}` +
      (unlocked.length ? ` (added ${unlocked.join(', ')})` : ' (no new versions)'),
  );
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
