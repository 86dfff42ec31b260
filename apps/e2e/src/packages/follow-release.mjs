// node follow-release.mjs <releaseId> <groupId>: the consumer, loading the packages with import.
import { Kafka, logLevel } from 'kafkajs';
import { subscribe } from '@rollgate/contracts';
import { Kafka as CloudEventsKafka } from 'cloudevents';
import followRelease from './follow-release.core.cjs';

await followRelease({
  Kafka,
  logLevel,
  subscribe,
  toCloudEvent: (message) => CloudEventsKafka.toEvent(message),
});
