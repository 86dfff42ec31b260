import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventCatalog, TOPICS } from '@rollgate/contracts';
import { describeEventLogContract } from '../testing/event-log.contract';
import { EmbeddedEventLog } from './embedded-event-log';

const dir = mkdtempSync(join(tmpdir(), 'rollgate-embedded-log-'));
const file = join(dir, 'events.db');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeEventLogContract('embedded (SQLite on disk)', () => ({
  open: async (catalog) => new EmbeddedEventLog({ file, catalog, pollIntervalMs: 20 }),
  writeRaw: async (topic, partition, key, value) => {
    const log = new EmbeddedEventLog({ file });
    log.writeRaw(topic, partition, key, value, {});
    await log.close();
  },
  deadLetters: async (topic) => {
    const db = new Database(file, { readonly: true });
    const rows = db
      .prepare('SELECT value, headers FROM messages WHERE topic = ? ORDER BY offset')
      .all(`${topic}.dlq`) as { value: string; headers: string }[];
    db.close();
    return rows.map((r) => ({
      value: r.value,
      headers: JSON.parse(r.headers) as Record<string, string>,
    }));
  },
}));

describe(EmbeddedEventLog.name, () => {
  it('keeps acknowledged events across a close and reopen of the file', async () => {
    const path = join(dir, 'durable.db');
    const first = new EmbeddedEventLog({ file: path });
    await first.ensureTopics([TOPICS.releases]);
    const artifact = { name: 'checkout', digest: `sha256:${'a'.repeat(64)}` };
    await first.append([
      {
        type: 'ReleaseRequested',
        version: 1,
        actor: 'user:alice',
        correlationId: 'rel-1',
        causationId: null,
        key: 'checkout',
        data: { releaseId: 'rel-1', service: 'checkout', artifact, strategy: 'canary' },
      },
    ]);
    await first.close();
    const second = new EmbeddedEventLog({ file: path, catalog: eventCatalog });
    const events = [];
    for await (const e of second.readRange({ topic: TOPICS.releases.name })) events.push(e);
    await second.close();
    expect(events).toHaveLength(1);
    expect(events[0]!.event.data).toMatchObject({ releaseId: 'rel-1', artifact });
  });
});
