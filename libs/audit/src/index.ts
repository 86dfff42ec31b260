export * from './replay';
export * from './release-subject';
export * from './correlated-subject';
export * from './render';
export * from './audit-subjects';
export * from './testing/release-history';
export * from './svg-chart';
export * from './postmortem-html';
