// Test helpers: import from '@rollgate/platform/testing', never from production code.
export * from './create-test-app';
export * from './test-runtime';
export * from './prometheus-server';
export * from './eventually';
export * from './databases';
