export * from './port';
export * from './codec';
export * from './partitioner';
export * from './tracing';
export { EmbeddedEventLog, type EmbeddedEventLogOptions } from './embedded/embedded-event-log';
export { KafkaEventLog, type KafkaEventLogOptions } from './kafka/kafka-event-log';
export * from './read-topics';
export { CONSOLE_SINK, type LogSink } from './kafka/kafka-logging';
export * from './private-files';
