export * from './plan';
export * from './release';
export * from './decisions';

/** The stream that holds every release of a service. */
export const serviceStreamId = (service: string) => `service:${service}`;
