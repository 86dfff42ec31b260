import { randomUUID } from 'node:crypto';
import type { EventEnvelope } from '@rollgate/contracts';
import { openEventLog, parseConfig } from '@rollgate/platform';

/**
 * Every event of `releaseIds` on `topics`, read from the log the environment points at, each
 * once: delivery is at least once (a replica killed between publishing its outbox and deleting
 * it publishes again, with the same event id), so a second copy is not a second decision.
 */
export async function releaseEvents(
  env: Record<string, string>,
  bench: string,
  topics: string[],
  releaseIds: Set<string>,
): Promise<EventEnvelope[]> {
  const log = openEventLog(parseConfig(env), `bench-${bench}-${randomUUID().slice(0, 6)}`);
  const events: EventEnvelope[] = [];
  const seen = new Set<string>();
  try {
    for (const topic of topics) {
      // A shared broker may hold other runs' poison drills: not this bench's events.
      for await (const logged of log.readRange({ topic, onMalformed: 'skip' })) {
        const data = logged.event.data as { releaseId?: string };
        if (!data.releaseId || !releaseIds.has(data.releaseId) || seen.has(logged.event.id))
          continue;
        seen.add(logged.event.id);
        events.push(logged.event);
      }
    }
  } finally {
    await log.close();
  }
  return events;
}
