import Database from 'better-sqlite3';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { ALL_TOPICS, type EventEnvelope } from '@rollgate/contracts';
import { releaseHistory } from '@rollgate/audit';
import { EmbeddedEventLog, KafkaEventLog } from '@rollgate/event-log';
import { parseConfig } from '@rollgate/platform';
import { runCli } from '../program';

const START = Date.parse('2026-04-01T08:00:00.000Z');
const REQUESTS = ['RouteChangeRequested', 'AnalysisRequested'];

async function cli(env: Record<string, string>, ...argv: string[]) {
  let out = '';
  let err = '';
  const code = await runCli(argv, {
    config: parseConfig(env),
    output: { out: (t) => (out += t), err: (t) => (err += t) },
  });
  return { code, out, err };
}

async function embeddedLogWith(events: EventEnvelope[]): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'rollgate-replay-'));
  const log = new EmbeddedEventLog({ file: join(dir, 'events.db') });
  await log.ensureTopics(ALL_TOPICS);
  await log.append(events);
  await log.close();
  return dir;
}

/** Writes a raw message the way a broken producer would, behind the log's back. */
function writeRaw(dir: string, topic: string, value: string): number {
  const db = new Database(join(dir, 'events.db'));
  const { next } = db
    .prepare(
      'SELECT COALESCE(MAX(offset) + 1, 0) AS next FROM messages WHERE topic = ? AND partition = 0',
    )
    .get(topic) as { next: number };
  db.prepare(
    'INSERT INTO messages (topic, partition, offset, key, headers, value, appended_at) VALUES (?, 0, ?, ?, ?, ?, ?)',
  ).run(topic, next, 'checkout', '{}', value, '2026-04-01T09:00:00.000Z');
  db.close();
  return next;
}

describe('rollgate replay', () => {
  const history = releaseHistory({ releaseId: 'rel-a', service: 'checkout', start: START });
  const other = releaseHistory({
    releaseId: 'rel-b',
    service: 'checkout',
    start: START + 60_000,
    fail: true,
  });
  let dir: string;

  beforeAll(async () => {
    dir = await embeddedLogWith([...history, ...other]);
  });

  it('prints the state and the timeline of a release from the embedded log', async () => {
    const { code, out, err } = await cli(
      { ROLLGATE_DATA_DIR: dir },
      'replay',
      '--release',
      'rel-a',
    );
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toContain(
      `release rel-a at the end of the log: ${history.length} of ${history.length} event(s)`,
    );
    expect(out).toContain('phase: succeeded');
    expect(out).toMatch(
      /#1 2026-04-01T08:00:01.000Z user:alice ReleaseRequested \(rollgate.releases\[\d\]@0\)/,
    );
    expect(out).toContain('why: error-rate: no regression');
    expect(out).not.toContain('rel-b');
  });

  it('prints the same bytes twice, in JSON too', async () => {
    const first = await cli({ ROLLGATE_DATA_DIR: dir }, 'replay', '--release', 'rel-b', '--json');
    const second = await cli({ ROLLGATE_DATA_DIR: dir }, 'replay', '--release', 'rel-b', '--json');
    expect(first.code).toBe(0);
    expect(second.out).toBe(first.out);
    const report = JSON.parse(first.out);
    expect(report.view).toMatchObject({
      id: 'rel-b',
      phase: 'rolled-back',
      reason: 'analysis FAIL at step 2',
    });
    expect(
      report.state.analyses.map((a: { verdict: { verdict: string } }) => a.verdict.verdict),
    ).toEqual(['PASS', 'PASS', 'FAIL']);
  });

  it('rebuilds a moment between two canary steps with --at, and the first N events with --offset', async () => {
    const route25 = history.find(
      (e) =>
        e.type === 'RouteApplied' &&
        (e.data as { weights: { canary: number } }).weights.canary === 25,
    )!;
    const at = new Date(Date.parse(route25.occurredAt) + 100).toISOString();
    const { code, out } = await cli(
      { ROLLGATE_DATA_DIR: dir },
      'replay',
      '--release',
      'rel-a',
      '--at',
      at,
      '--json',
    );
    expect(code).toBe(0);
    const report = JSON.parse(out);
    expect(report.view).toMatchObject({ phase: 'progressing', step: 1, stepCompleted: false });
    expect(report.state.routes.at(-1).weights).toEqual({ stable: 50, baseline: 25, canary: 25 });
    expect(report.state.analyses.map((a: { verdict: unknown }) => a.verdict === null)).toEqual([
      false,
    ]);
    const offset = await cli(
      { ROLLGATE_DATA_DIR: dir },
      'replay',
      '--release',
      'rel-a',
      '--offset',
      '2',
    );
    expect(offset.out).toContain('after 2 event(s): 2 of');
    expect(offset.out).not.toContain('#3 ');
  });

  it('refuses bad arguments and unknown releases with a one-line reason', async () => {
    const badAt = await cli(
      { ROLLGATE_DATA_DIR: dir },
      'replay',
      '--release',
      'rel-a',
      '--at',
      'noon',
    );
    expect(badAt.code).toBe(2);
    expect(badAt.err).toMatch(/^error: at: must be an ISO-8601 instant/);
    const none = await cli({ ROLLGATE_DATA_DIR: dir }, 'replay');
    expect(none.code).toBe(2);
    const unknown = await cli({ ROLLGATE_DATA_DIR: dir }, 'replay', '--release', 'nope');
    expect(unknown.code).toBe(1);
    expect(unknown.err).toBe('error: release nope has no events in the log\n');
    const missing = await cli(
      { ROLLGATE_DATA_DIR: join(dir, 'absent') },
      'replay',
      '--release',
      'rel-a',
    );
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/no embedded event log at/);
  });

  it('stops at a malformed or unknown event and names its position, or skips it when asked', async () => {
    const broken = await embeddedLogWith(history);
    const badJson = writeRaw(broken, 'rollgate.releases', '{not json');
    const unknownEvent = { ...history[1]!, id: randomUUID(), type: 'ReleaseTeleported' };
    const unknownAt = writeRaw(broken, 'rollgate.releases', JSON.stringify(unknownEvent));
    const stopped = await cli({ ROLLGATE_DATA_DIR: broken }, 'replay', '--release', 'rel-a');
    expect(stopped.code).toBe(3);
    expect(stopped.out).toBe('');
    expect(stopped.err).toContain(
      `replay stopped: malformed event at rollgate.releases[0]@${badJson}: not JSON`,
    );
    expect(stopped.err).toContain('--skip-invalid');
    const skipped = await cli(
      { ROLLGATE_DATA_DIR: broken },
      'replay',
      '--release',
      'rel-a',
      '--skip-invalid',
      '--json',
    );
    expect(skipped.code).toBe(0);
    expect(skipped.err).toContain(
      `skipped malformed event at rollgate.releases[0]@${badJson}: not JSON`,
    );
    expect(skipped.err).toContain(
      `skipped malformed event at rollgate.releases[0]@${unknownAt}: invalid event ReleaseTeleported: type has no published schema for ReleaseTeleported@1`,
    );
    expect(JSON.parse(skipped.out).view.phase).toBe('succeeded');
  });

  it('reads Kafka the same way (ROLLGATE_EVENT_LOG=kafka)', async () => {
    const releaseId = `rel-kafka-${randomUUID().slice(0, 8)}`;
    // Requests are left out on the shared topics: a router or analysis service running for
    // another suite would act on them. Facts (steps, routes applied, scores) are inert.
    const events = releaseHistory({ releaseId, service: 'replay-kafka', start: START }).filter(
      (e) => !REQUESTS.includes(e.type),
    );
    const log = new KafkaEventLog({ brokers: ['127.0.0.1:9092'], clientId: 'replay-spec' });
    await log.ensureTopics(ALL_TOPICS);
    await log.append(events);
    await log.close();
    const env = { ROLLGATE_EVENT_LOG: 'kafka', KAFKA_BROKERS: '127.0.0.1:9092' };
    const fromKafka = await cli(env, 'replay', '--release', releaseId, '--json', '--skip-invalid');
    expect(fromKafka.code).toBe(0);
    const embeddedDir = await embeddedLogWith(events);
    const fromEmbedded = await cli(
      { ROLLGATE_DATA_DIR: embeddedDir },
      'replay',
      '--release',
      releaseId,
      '--json',
    );
    const kafkaReport = JSON.parse(fromKafka.out);
    const embeddedReport = JSON.parse(fromEmbedded.out);
    expect(kafkaReport.view).toEqual(embeddedReport.view);
    expect(kafkaReport.state).toEqual(embeddedReport.state);
    expect(kafkaReport.timeline.map((e: { eventId: string }) => e.eventId)).toEqual(
      events.map((e) => e.id),
    );
  });
});
