export * from './plan';
export * from './release';
export * from './decisions';
export * from './low-traffic-policy';
export * from './service-policy';
export * from './document-diff';

/** The stream that holds every release of a service. */
export const serviceStreamId = (service: string) => `service:${service}`;
