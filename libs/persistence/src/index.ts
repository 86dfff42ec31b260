export * from './storage';
export * from './entities';
export * from './event-store';
export * from './outbox-relay';
export * from './projection-runner';
export { PlatformTables1764000000000 } from './migrations/1764000000000-platform-tables';
export * from './transaction';
export * from './read-your-writes';
export * from './consumer-lag';
