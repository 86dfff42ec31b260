import {
  SERVICE_NAME_PATTERN,
  SYNTHETIC_METHODS,
  type ReleasePlan,
  type ReleaseStrategy,
} from '@rollgate/contracts';
import type { LowTrafficChoices } from './low-traffic-policy';
import { planProblems, withPlanDefaults } from './plan';

export const SERVICE_POLICY_API_VERSION = 'rollgate/v1';
export const SERVICE_POLICY_KIND = 'ServicePolicy';
export const RELEASE_STRATEGIES: readonly ReleaseStrategy[] = ['rolling', 'blue-green', 'canary'];
/** What a notification target is sent as (the webhook formats). */
export const NOTIFICATION_FORMATS = ['binary', 'structured', 'slack'] as const;

/** A release plan as a policy writes it: `steps` are the canary shares. Every field optional. */
export interface PolicyPlan {
  steps?: number[];
  stepSeconds?: number;
  replicas?: number;
  maxSurge?: number;
  maxUnavailable?: number;
  marginalTimeoutSeconds?: number;
  warmSeconds?: number;
}

/** Where a service's owners want to hear about its releases (a webhook subscription). */
export interface NotificationTarget {
  url: string;
  /** Event-type globs, e.g. `Release*`. */
  types: string[];
  format?: (typeof NOTIFICATION_FORMATS)[number];
  /** A file (on the machine that runs `rollgate apply`) holding the signing secret. */
  secretFile?: string;
  /**
   * Stored form only: `url` keeps just its origin and this is `sha256:` + 16 hex of the whole URL
   * (a webhook URL can be a credential; it is never logged).
   */
  urlFingerprint?: string;
}

/** rollgate.yaml: how a service is released unless a release request says otherwise. */
export interface ServicePolicy {
  apiVersion: typeof SERVICE_POLICY_API_VERSION;
  kind: typeof SERVICE_POLICY_KIND;
  service: string;
  description?: string;
  owners?: string[];
  release?: { strategy?: ReleaseStrategy; plan?: PolicyPlan };
  /**
   * `{canaryConfig: NAME}` names a shared canary config; anything else is a canary config written
   * inline, stored as the config named after the service (its paths read `analysis.metrics[2]…`).
   */
  analysis?: { canaryConfig: string } | Record<string, unknown>;
  flags?: { expiredBlock: boolean };
  notifications?: NotificationTarget[];
  lowTraffic?: LowTrafficChoices;
}

/** One refusal: the path in the document and what is wrong there. */
export interface PolicyProblem {
  field: string;
  problem: string;
}

type Json = Record<string, unknown>;
type Refuse = (field: string, problem: string) => void;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const SERVICE_NAME = new RegExp(SERVICE_NAME_PATTERN);
const GLOB = /^[A-Za-z*?]{1,100}$/;

/** Keys of `value` that are not in `known` are refused, each with its path. */
function onlyKnown(value: Json, known: readonly string[], path: string, refuse: Refuse) {
  for (const key of Object.keys(value))
    if (!known.includes(key))
      refuse(`${path}${key}`, `is not a field here (known: ${known.join(', ')})`);
}

function checkInteger(
  value: unknown,
  field: string,
  min: number,
  max: number,
  refuse: Refuse,
): void {
  if (value === undefined) return;
  if (!Number.isInteger(value) || (value as number) < min || (value as number) > max)
    refuse(field, `must be a whole number from ${min} to ${max}`);
}

function checkNumber(value: unknown, field: string, max: number, refuse: Refuse): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > max)
    refuse(field, `must be a number above 0 and at most ${max}`);
}

/** The plan fields as a release takes them (`steps` → `canarySteps`). */
export function planOfPolicy(plan: PolicyPlan | undefined): Partial<ReleasePlan> {
  if (!plan) return {};
  const { steps, ...rest } = plan;
  return { ...rest, ...(steps ? { canarySteps: steps } : {}) };
}

const PLAN_LIMITS: Record<Exclude<keyof PolicyPlan, 'steps'>, [number, number]> = {
  replicas: [1, 50],
  stepSeconds: [1, 86_400],
  maxSurge: [0, 50],
  maxUnavailable: [0, 50],
  marginalTimeoutSeconds: [1, 604_800],
  warmSeconds: [0, 86_400],
};

function validateRelease(value: unknown, refuse: Refuse): void {
  if (value === undefined) return;
  if (!isObject(value)) return refuse('release', 'must be an object');
  onlyKnown(value, ['strategy', 'plan'], 'release.', refuse);
  const strategy = (value.strategy as ReleaseStrategy | undefined) ?? 'canary';
  if (!RELEASE_STRATEGIES.includes(strategy))
    refuse('release.strategy', `must be one of ${RELEASE_STRATEGIES.join(', ')}`);
  const plan = value.plan;
  if (plan === undefined) return;
  if (!isObject(plan)) return refuse('release.plan', 'must be an object');
  onlyKnown(plan, ['steps', ...Object.keys(PLAN_LIMITS)], 'release.plan.', refuse);
  const fieldProblems: PolicyProblem[] = [];
  const refuseField: Refuse = (field, problem) => fieldProblems.push({ field, problem });
  for (const [key, [min, max]] of Object.entries(PLAN_LIMITS))
    checkInteger(plan[key], `release.plan.${key}`, min, max, refuseField);
  if (plan.steps !== undefined) {
    if (!Array.isArray(plan.steps) || plan.steps.length === 0 || plan.steps.length > 10)
      refuseField('release.plan.steps', 'must be a list of 1 to 10 canary shares (percent)');
    else
      plan.steps.forEach((step: unknown, i) => {
        if (!Number.isInteger(step) || (step as number) < 1 || (step as number) > 99)
          refuseField(`release.plan.steps[${i}]`, 'must be a whole percent from 1 to 99');
      });
  }
  fieldProblems.forEach(({ field, problem }) => refuse(field, problem));
  if (fieldProblems.length > 0 || !RELEASE_STRATEGIES.includes(strategy)) return;
  // The same rules a release request meets, so a policy never yields a plan every release refuses.
  for (const { field, problem } of planProblems(
    strategy,
    withPlanDefaults(planOfPolicy(plan as PolicyPlan)),
  ))
    refuse(`release.${field.replace('plan.canarySteps', 'plan.steps')}`, problem);
}

function validateAnalysis(value: unknown, refuse: Refuse): void {
  if (value === undefined) return;
  if (!isObject(value)) return refuse('analysis', 'must be an object');
  // An inline canary config is checked whole by the analysis service, which owns the format.
  if (!('canaryConfig' in value)) return;
  onlyKnown(value, ['canaryConfig'], 'analysis.', refuse);
  if (typeof value.canaryConfig !== 'string' || !SERVICE_NAME.test(value.canaryConfig))
    refuse(
      'analysis.canaryConfig',
      'must name a canary config (lowercase letters, digits, -); an inline config goes directly under analysis',
    );
}

/** The canary config a policy writes inline under `analysis`, if it does not name a shared one. */
export function inlineCanaryConfig(policy: ServicePolicy): Record<string, unknown> | undefined {
  const analysis = policy.analysis;
  return analysis && !('canaryConfig' in analysis) ? analysis : undefined;
}

function validateNotifications(value: unknown, refuse: Refuse): void {
  if (value === undefined) return;
  if (!Array.isArray(value) || value.length > 20)
    return refuse('notifications', 'must be a list of at most 20 targets');
  value.forEach((target: unknown, i) => {
    const path = `notifications[${i}]`;
    if (!isObject(target)) return refuse(path, 'must be an object');
    onlyKnown(target, ['url', 'types', 'format', 'secretFile'], `${path}.`, refuse);
    if (!(typeof target.url === 'string' && isHttpUrl(target.url)))
      refuse(`${path}.url`, 'must be an http or https URL without user:password@');
    if (!Array.isArray(target.types) || target.types.length === 0 || target.types.length > 50)
      refuse(`${path}.types`, 'must be a list of 1 to 50 event-type globs, e.g. Release*');
    else
      target.types.forEach((type: unknown, j) => {
        if (!(typeof type === 'string' && GLOB.test(type)))
          refuse(`${path}.types[${j}]`, 'must be an event-type glob (letters, * and ?)');
      });
    if (
      target.format !== undefined &&
      !(NOTIFICATION_FORMATS as readonly unknown[]).includes(target.format)
    )
      refuse(`${path}.format`, `must be one of ${NOTIFICATION_FORMATS.join(', ')}`);
    if (
      target.secretFile !== undefined &&
      !(typeof target.secretFile === 'string' && target.secretFile.length > 0)
    )
      refuse(`${path}.secretFile`, 'must be a file path');
  });
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'http:' || url.protocol === 'https:') && !url.username;
  } catch {
    return false;
  }
}

/**
 * Checks the low-traffic choices; `path` is where they sit (`lowTraffic` in a policy). Exported
 * so a release request's override is held to the same rules.
 */
export function lowTrafficProblems(value: unknown, path = 'lowTraffic'): PolicyProblem[] {
  const problems: PolicyProblem[] = [];
  const refuse: Refuse = (field, problem) => problems.push({ field, problem });
  if (value === undefined) return problems;
  if (!isObject(value)) return [{ field: path, problem: 'must be an object' }];
  onlyKnown(
    value,
    ['minimumRequests', 'maxWindowFactor', 'raiseShare', 'synthetic', 'thresholdFallback'],
    `${path}.`,
    refuse,
  );
  checkInteger(value.minimumRequests, `${path}.minimumRequests`, 1, 1_000_000, refuse);
  // The step's deadline allows at most 3 × stepSeconds of analysis (scoring caps it there too).
  checkInteger(value.maxWindowFactor, `${path}.maxWindowFactor`, 1, 3, refuse);
  if (value.raiseShare !== undefined) {
    if (!isObject(value.raiseShare)) refuse(`${path}.raiseShare`, 'must be {maxPercent}');
    else {
      onlyKnown(value.raiseShare, ['maxPercent'], `${path}.raiseShare.`, refuse);
      if (value.raiseShare.maxPercent === undefined)
        refuse(`${path}.raiseShare.maxPercent`, 'is required');
      // The baseline takes the same share as the canary: more than 50 each cannot be.
      checkInteger(value.raiseShare.maxPercent, `${path}.raiseShare.maxPercent`, 1, 50, refuse);
    }
  }
  if (value.synthetic !== undefined)
    validateSynthetic(value.synthetic, `${path}.synthetic`, refuse);
  if (
    value.thresholdFallback !== undefined &&
    !['auto', 'confirm'].includes(value.thresholdFallback as string)
  )
    refuse(`${path}.thresholdFallback`, 'must be auto or confirm');
  return problems;
}

function validateSynthetic(value: unknown, path: string, refuse: Refuse): void {
  if (!isObject(value)) return refuse(path, 'must be {rps, mix}');
  onlyKnown(value, ['rps', 'mix'], `${path}.`, refuse);
  checkNumber(value.rps, `${path}.rps`, 1000, refuse);
  if (!Array.isArray(value.mix) || value.mix.length === 0 || value.mix.length > 50)
    return refuse(`${path}.mix`, 'must be a list of 1 to 50 requests {method, path, weight}');
  value.mix.forEach((request: unknown, i) => {
    const at = `${path}.mix[${i}]`;
    if (!isObject(request)) return refuse(at, 'must be {method, path, weight}');
    onlyKnown(request, ['method', 'path', 'weight'], `${at}.`, refuse);
    if (!(SYNTHETIC_METHODS as readonly unknown[]).includes(request.method))
      refuse(`${at}.method`, `must be one of ${SYNTHETIC_METHODS.join(', ')}`);
    if (!(typeof request.path === 'string' && /^\/\S{0,1999}$/.test(request.path)))
      refuse(`${at}.path`, 'must be a path starting with /');
    checkNumber(request.weight, `${at}.weight`, 1_000_000, refuse);
  });
}

/**
 * Checks a decoded policy document (JSON or YAML) and lists every problem with its path, e.g.
 * `release.plan.steps[1]: weights must increase step by step`. An inline canary config is only
 * checked to be an object here: the analysis service validates it (its paths get `analysis.`).
 */
export function validateServicePolicy(value: unknown): {
  policy: ServicePolicy | null;
  problems: PolicyProblem[];
} {
  const problems: PolicyProblem[] = [];
  const refuse: Refuse = (field, problem) => problems.push({ field, problem });
  if (!isObject(value)) {
    refuse('policy', 'must be an object');
    return { policy: null, problems };
  }
  onlyKnown(
    value,
    [
      'apiVersion',
      'kind',
      'service',
      'description',
      'owners',
      'release',
      'analysis',
      'flags',
      'notifications',
      'lowTraffic',
    ],
    '',
    refuse,
  );
  if (value.apiVersion !== SERVICE_POLICY_API_VERSION)
    refuse('apiVersion', `must be "${SERVICE_POLICY_API_VERSION}"`);
  if (value.kind !== SERVICE_POLICY_KIND) refuse('kind', `must be "${SERVICE_POLICY_KIND}"`);
  if (!(typeof value.service === 'string' && SERVICE_NAME.test(value.service)))
    refuse('service', 'must be a service name (lowercase letters, digits and dashes)');
  if (
    value.description !== undefined &&
    !(typeof value.description === 'string' && value.description.length <= 2000)
  )
    refuse('description', 'must be a string of at most 2000 characters');
  if (value.owners !== undefined) {
    if (!Array.isArray(value.owners) || value.owners.length > 50)
      refuse('owners', 'must be a list of at most 50 owners');
    else
      value.owners.forEach((owner: unknown, i) => {
        if (!(typeof owner === 'string' && owner.length > 0 && owner.length <= 200))
          refuse(`owners[${i}]`, 'must be a name or address of 1 to 200 characters');
      });
  }
  validateRelease(value.release, refuse);
  validateAnalysis(value.analysis, refuse);
  if (value.flags !== undefined) {
    if (!isObject(value.flags)) refuse('flags', 'must be {expiredBlock: true|false}');
    else {
      onlyKnown(value.flags, ['expiredBlock'], 'flags.', refuse);
      if (typeof value.flags.expiredBlock !== 'boolean')
        refuse('flags.expiredBlock', 'must be true or false');
    }
  }
  validateNotifications(value.notifications, refuse);
  for (const problem of lowTrafficProblems(value.lowTraffic))
    refuse(problem.field, problem.problem);
  return { policy: problems.length === 0 ? (value as unknown as ServicePolicy) : null, problems };
}

/** A stored policy version. */
export interface PolicyInForce {
  version: number;
  policy: ServicePolicy;
}

/** What a release request may give itself; whatever it leaves out comes from the policy. */
export interface ReleaseOverrides {
  strategy?: ReleaseStrategy;
  plan?: Partial<ReleasePlan>;
  canaryConfig?: string;
  lowTraffic?: LowTrafficChoices;
  expiredFlagsBlock?: boolean;
}

/** A release's settings once the request and the policy in force are merged. */
export interface ReleaseSettings {
  strategy: ReleaseStrategy;
  /** Still partial: the built-in plan defaults fill the rest when the release is decided. */
  plan: Partial<ReleasePlan>;
  canaryConfig?: string;
  lowTraffic?: LowTrafficChoices;
  /** false: expired flags the build reads do not block it (the flag projects' rule is skipped). */
  expiredFlagsBlock: boolean;
  owners?: string[];
  /** The policy version the defaults came from; absent without a policy. */
  policy?: { version: number };
}

const defined = <T extends object>(value: T): Partial<T> =>
  Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;

/**
 * Precedence, field by field: what the request gives, else what the policy in force says, else the
 * built-in default (canary, DEFAULT_PLAN, the config named after the service, flag rule on).
 * Plan fields and low-traffic choices merge one by one, so a request may change one step length
 * and keep the policy's steps.
 */
export function releaseSettings(
  inForce: PolicyInForce | null,
  request: ReleaseOverrides,
): ReleaseSettings {
  const policy = inForce?.policy;
  const policyConfig = !policy?.analysis
    ? undefined
    : inlineCanaryConfig(policy)
      ? policy.service
      : (policy.analysis.canaryConfig as string);
  const canaryConfig = request.canaryConfig ?? policyConfig;
  const lowTraffic = { ...policy?.lowTraffic, ...defined(request.lowTraffic ?? {}) };
  const owners = policy?.owners ?? [];
  return {
    strategy: request.strategy ?? policy?.release?.strategy ?? 'canary',
    plan: { ...planOfPolicy(policy?.release?.plan), ...defined(request.plan ?? {}) },
    ...(canaryConfig !== undefined && { canaryConfig }),
    ...(Object.keys(lowTraffic).length > 0 && { lowTraffic }),
    expiredFlagsBlock: request.expiredFlagsBlock ?? policy?.flags?.expiredBlock ?? true,
    ...(owners.length > 0 && { owners }),
    ...(inForce && { policy: { version: inForce.version } }),
  };
}
