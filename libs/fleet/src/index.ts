export * from './fleet-driver';
export * from './local/local-fleet-driver';
