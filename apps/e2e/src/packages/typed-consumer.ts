// Type-checked by packages.e2e-spec.ts in a project outside the workspace, against the published
// declarations only (and in the workspace against the sources): `subscribe` handlers are typed
// per event type, at its latest version.
import { Kafka } from 'kafkajs';
import { subscribe, type LatestEvent } from '@rollgate/contracts';
import { FlagsClient } from '@rollgate/flags-sdk';

export async function followVerdicts(brokers: string[]): Promise<LatestEvent[]> {
  const seen: LatestEvent[] = [];
  const consumer = new Kafka({ brokers }).consumer({ groupId: 'typed-consumer' });
  await subscribe({
    consumer,
    handlers: {
      ReleaseRequested: (event) => {
        const strategy: 'rolling' | 'blue-green' | 'canary' = event.data.strategy;
        const version: 2 = event.version;
        // @ts-expect-error ReleaseRequested has no verdict
        void event.data.verdict;
        seen.push(event);
        void [strategy, version];
      },
      AnalysisVerdictReached: (event, record) => {
        const verdict: 'PASS' | 'MARGINAL' | 'FAIL' | 'NODATA' = event.data.verdict;
        const cloudEventId: string | undefined = record.headers['ce_id'];
        void [verdict, cloudEventId];
      },
    },
  });
  return seen;
}

export function isOn(client: FlagsClient, userId: string): boolean {
  return client.isEnabled('new-checkout', { userId });
}
