// The flags service's write side: kept out of the package index so the SDK does not pull in
// event contracts. Import as `@rollgate/flags-domain/project`.
export * from './project-flags';
export * from './decisions';
export * from './ramp';
