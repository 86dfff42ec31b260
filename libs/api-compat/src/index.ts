export * from './model';
export * from './canonical';
export * from './openapi';
export * from './consumer-contract';
export * from './compare';
export * from './gate';
