export * from './types';
export * from './errors';
export * from './registry';
export * from './parse-request';
export { KayentaJudge } from './kayenta/kayenta-judge';
export * from './kayenta/kayenta-settings';
export { ThresholdJudge } from './threshold/threshold-judge';
export * from './threshold/threshold-settings';
export {
  SequentialJudge,
  type MetricRunState,
  type SequentialLook,
  type SequentialRunState,
} from './sequential/sequential-judge';
export * from './sequential/sequential-settings';
export * from './low-traffic';
export * from './settings-schema';
