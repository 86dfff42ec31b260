import { eventCatalog, type TopicDefinition } from '@rollgate/contracts';

/**
 * The pattern of a handler on the event-log transport: an event type, and the read model the
 * handler belongs to. The read model names the consumer group and the checkpoint its rows
 * commit with, so two read models of one service never share a position.
 */
export interface EventLogPattern {
  readModel: string;
  type: string;
}

function topicsByType(): Map<string, string> {
  return new Map(eventCatalog.all().map((d) => [d.type, d.topic.name]));
}

/** The topic an event type is published on, from the contracts catalog. */
export function topicOfEventType(type: string): string {
  const topic = topicsByType().get(type);
  if (!topic) throw new Error(`event type ${type} is not in the contracts catalog`);
  return topic;
}

/**
 * `@EventPattern(readModelEvents('releases', 'ReleaseStarted', ...))`: these event types, for
 * this read model. An unknown type fails here, when the class is loaded, not on the first event.
 */
export function readModelEvents(readModel: string, ...types: string[]): EventLogPattern[] {
  for (const type of types) topicOfEventType(type);
  return types.map((type) => ({ readModel, type }));
}

/** Every event type the catalog puts on a topic: for read models that fold a whole topic. */
export function eventTypesOn(topic: TopicDefinition): string[] {
  return [...topicsByType()].filter(([, name]) => name === topic.name).map(([type]) => type);
}
