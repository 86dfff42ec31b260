export * from './plan';
export * from './snapshot';
export * from './program';
export * from './lint';
export * from './gate';
export * from './migration';
export * from './sql-safety';
export * from './target';
