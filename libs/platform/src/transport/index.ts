export * from './event-patterns';
export * from './event-log.context';
export * from './event-handler-table';
export * from './event-log.server';
export * from './event-log.client';
export * from './event-log.transport';
