export * from './service-releases';
