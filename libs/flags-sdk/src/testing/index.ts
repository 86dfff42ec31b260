export * from './fixtures';
export * from './ruleset-server';
