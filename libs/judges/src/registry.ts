import { KayentaJudge } from './kayenta/kayenta-judge';
import type { KayentaSettings } from './kayenta/kayenta-settings';
import { SequentialJudge } from './sequential/sequential-judge';
import type { SequentialSettings } from './sequential/sequential-settings';
import { ThresholdJudge } from './threshold/threshold-judge';
import type { ThresholdSettings } from './threshold/threshold-settings';
import { JudgeInputError } from './errors';
import type { Judge, JudgeName, JudgeRequest, JudgeVerdict } from './types';

/** A service's judge configuration; everything is optional and has a documented default. */
export interface JudgeSettings {
  /** Judge used when a request names none. Default `sequential`. */
  judge?: JudgeName;
  kayenta?: Partial<KayentaSettings>;
  threshold?: Partial<ThresholdSettings>;
  sequential?: Partial<SequentialSettings>;
}

export type JudgeFactory = (settings: JudgeSettings) => Judge;

export const DEFAULT_JUDGE: JudgeName = 'sequential';

/** Every judge by name. Adding one is one entry here, nowhere else. */
export const JUDGES: ReadonlyMap<JudgeName, JudgeFactory> = new Map<JudgeName, JudgeFactory>([
  ['kayenta', (settings) => new KayentaJudge(settings.kayenta)],
  ['threshold', (settings) => new ThresholdJudge(settings.threshold)],
  ['sequential', (settings) => new SequentialJudge(settings.sequential)],
]);

export const JUDGE_NAMES = [...JUDGES.keys()];

export function isJudgeName(name: unknown): name is JudgeName {
  return typeof name === 'string' && JUDGES.has(name as JudgeName);
}

export function createJudge(name: string = DEFAULT_JUDGE, settings: JudgeSettings = {}): Judge {
  const factory = isJudgeName(name) ? JUDGES.get(name) : undefined;
  if (!factory) {
    throw new JudgeInputError(`unknown judge "${name}"; known: ${JUDGE_NAMES.join(', ')}`);
  }
  return factory(settings);
}

/** Judge a request with the judge it names, else the service's, else the default. */
export function judgeRequest(request: JudgeRequest, settings: JudgeSettings = {}): JudgeVerdict {
  return createJudge(request.judge ?? settings.judge ?? DEFAULT_JUDGE, settings).judge(request);
}

/**
 * Judge a complete window once (e.g. `rollgate judge`): like `judgeRequest`, but a judge that has
 * a one-shot form uses it (the sequential judge's fixed-horizon tests).
 */
export function judgeCompleteWindow(
  request: JudgeRequest,
  settings: JudgeSettings = {},
): JudgeVerdict {
  const judge = createJudge(request.judge ?? settings.judge ?? DEFAULT_JUDGE, settings);
  return judge.judgeWindow ? judge.judgeWindow(request) : judge.judge(request);
}
