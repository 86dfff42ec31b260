import { randomUUID } from 'node:crypto';
import {
  defineEvent,
  EventCatalog,
  type EventDefinition,
  type NewEvent,
  type TopicDefinition,
} from '@rollgate/contracts';

export interface ContractTestData {
  n: number;
  note: string;
}

/** A fresh topic and a catalog with one event on it, so every test starts from an empty log. */
export function contractTopic(partitions = 3): { topic: TopicDefinition; catalog: EventCatalog } {
  const topic: TopicDefinition = {
    name: `contract-${randomUUID().slice(0, 8)}`,
    partitions,
    description: 'event-log contract test',
    keyDescription: 'test key',
  };
  const definition = defineEvent<ContractTestData>({
    type: 'ContractTested',
    version: 1,
    topic,
    description: 'test event',
    schema: {
      type: 'object',
      properties: { n: { type: 'integer' }, note: { type: 'string', minLength: 1 } },
      required: ['n', 'note'],
      additionalProperties: false,
    },
  });
  return { topic, catalog: new EventCatalog([definition as EventDefinition]) };
}

export function testEvent(key: string, n: number, note = 'ok'): NewEvent<ContractTestData> {
  return {
    type: 'ContractTested',
    version: 1,
    actor: 'test:contract',
    correlationId: `corr-${key}`,
    causationId: null,
    key,
    data: { n, note },
  };
}
