export * from './replay';
export * from './release-subject';
export * from './correlated-subject';
export * from './render';
export * from './audit-subjects';
