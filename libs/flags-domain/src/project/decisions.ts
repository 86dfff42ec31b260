import type {
  FlagCreatedV1,
  FlagDebtDetectedV1,
  FlagExtendedV1,
  FlagGuardOverride,
  FlagKilledV1,
  FlagProjectConfiguredV1,
  FlagRetiredV1,
  FlagSegmentDefinedV1,
  FlagUpdatedV1,
  NewEvent,
} from '@rollgate/contracts';
import { DomainError, type Decision } from '@rollgate/event-sourcing';
import { expiryDate, isExpired, isPotentiallyStale, potentiallyStaleDate } from '../flag-debt';
import type {
  Constraint,
  FlagDefinition,
  FlagEnvironment,
  FlagType,
  Prerequisite,
  Segment,
} from '../model';
import { validateFlag, validateRuleset, type ValidationError } from '../validation';
import { parseIsoInstant } from '../values';
import { DEFINITION_FIELDS, type FlagState, type ProjectFlagsState } from './project-flags';

/** Who asked, and what caused it (null: a person's direct action). */
export interface Origin {
  readonly actor: string;
  readonly causationId: string | null;
}

/** One problem with a request, naming the request field at fault. */
export interface FieldProblem {
  readonly field: string;
  readonly problem: string;
}

/** A command refused because its input is invalid; the edge answers 400 with every problem. */
export class FlagInputError extends DomainError {
  constructor(readonly problems: readonly FieldProblem[]) {
    super('invalid', problems.map((p) => `${p.field}: ${p.problem}`).join('; '), {
      problems,
    });
  }
}

// ---- the enablement guard ----------------------------------------------------------------------

/** A live instance as the fleet reports it; `flags` null when it did not say what it runs. */
export interface LiveInstance {
  readonly id: string;
  readonly service: string;
  readonly flags: readonly string[] | null;
}

export interface UndeclaredReader {
  readonly instanceId: string;
  readonly service: string;
  /** no: its build does not declare the flag; unknown: it did not report what it runs. */
  readonly declares: 'no' | 'unknown';
}

/**
 * The "7 of 8 servers" check: a service reads a flag when any of its live instances declares it;
 * every other live instance of that service runs a build that does not know the flag (or did not
 * say), and turning the flag on would make it do something else with the same switch.
 */
export function undeclaredReaders(
  flagKey: string,
  instances: readonly LiveInstance[],
): UndeclaredReader[] {
  const readers = new Set(
    instances.filter((i) => i.flags?.includes(flagKey)).map((i) => i.service),
  );
  return instances
    .filter((i) => readers.has(i.service) && !i.flags?.includes(flagKey))
    .map((i) => ({
      instanceId: i.id,
      service: i.service,
      declares: i.flags === null ? 'unknown' : 'no',
    }));
}

/** What the fleet said when the command was decided. */
export type FleetSnapshot =
  | { readonly ok: true; readonly instances: readonly LiveInstance[] }
  | { readonly ok: false; readonly error: string };

// ---- commands ----------------------------------------------------------------------------------

export interface ConfigureProject {
  readonly environments: readonly string[];
  readonly blockReleasesOnExpiredFlags: boolean;
  readonly services: readonly string[];
  readonly reason: string;
}

export interface CreateFlag {
  readonly key: string;
  readonly type: FlagType;
  readonly owner: string;
  readonly description?: string;
  readonly expiresAt?: string;
  readonly reason: string;
}

export interface UpdateEnvironment {
  readonly key: string;
  readonly environment: string;
  readonly config: FlagEnvironment;
  readonly reason: string;
  /** Turn it on even though the guard refuses; the reason is recorded on the event. */
  readonly force?: { readonly reason: string };
  /** Looked up only when the change turns the flag on. */
  readonly fleet?: FleetSnapshot;
}

export interface SetRollout {
  readonly key: string;
  readonly environment: string;
  readonly percentage: number;
  readonly groupId?: string;
  readonly reason: string;
}

export interface UpdateDefinition {
  readonly key: string;
  readonly owner?: string;
  readonly description?: string;
  readonly prerequisites?: readonly Prerequisite[];
  readonly reason: string;
}

// ---- ownership ---------------------------------------------------------------------------------

/**
 * Why a token limited to `tokenServices` may not change this project, or undefined when it may
 * (docs/adr/0011-flag-ownership.md). An unlimited token may change any project. A limited one
 * needs one of the project's owner services, and may only name owners it can touch itself, so
 * it can neither take over a project nor hand one to a service outside its reach.
 */
export function projectAccessProblem(
  state: ProjectFlagsState,
  tokenServices: readonly string[] | undefined,
  newOwners?: readonly string[],
): string | undefined {
  if (tokenServices === undefined) return undefined;
  const reach = tokenServices.join(', ') || 'none';
  if (state.exists) {
    if (state.services.length === 0) {
      return `project "${state.project}" has no owner services: only a token for every service may change it`;
    }
    if (!state.services.some((service) => tokenServices.includes(service))) {
      return `project "${state.project}" is owned by ${state.services.join(', ')}; this token may touch ${reach}`;
    }
  }
  if (newOwners === undefined) return undefined;
  if (newOwners.length === 0) {
    return `a token limited to ${reach} must name the project's owner services (services)`;
  }
  const outside = newOwners.filter((service) => !tokenServices.includes(service));
  if (outside.length > 0) {
    return `this token may touch ${reach}, not the owner services ${outside.join(', ')}`;
  }
  return undefined;
}

// ---- decisions ---------------------------------------------------------------------------------

export function decideConfigureProject(
  state: ProjectFlagsState,
  command: ConfigureProject,
  origin: Origin,
): Decision {
  const removed = state.exists
    ? state.environments.filter((name) => !command.environments.includes(name))
    : [];
  if (removed.length > 0) {
    throw new FlagInputError([
      {
        field: 'environments',
        problem: `environments cannot be removed (flags are configured there): ${removed.join(', ')}`,
      },
    ]);
  }
  const unchanged =
    state.exists &&
    sameList(state.environments, command.environments) &&
    state.blockReleasesOnExpiredFlags === command.blockReleasesOnExpiredFlags &&
    sameList(state.services, command.services);
  if (unchanged) return [];
  const data: FlagProjectConfiguredV1 = {
    project: state.project,
    environments: [...command.environments],
    blockReleasesOnExpiredFlags: command.blockReleasesOnExpiredFlags,
    services: [...command.services],
    reason: command.reason,
    rulesetVersion: state.version + 1,
  };
  return [event(state, 'FlagProjectConfigured', state.project, data, origin)];
}

export function decideCreateFlag(
  state: ProjectFlagsState,
  command: CreateFlag,
  origin: Origin,
  now: Date,
): Decision {
  assertProjectExists(state);
  const tombstone = state.retired[command.key];
  if (tombstone) {
    throw new DomainError(
      'conflict',
      `flag name "${command.key}" was retired on ${tombstone.retiredAt} and can never be reused: choose a new name`,
      { field: 'key', retiredAt: tombstone.retiredAt },
    );
  }
  if (state.flags[command.key]) {
    throw new DomainError('conflict', `flag "${command.key}" already exists`, { field: 'key' });
  }
  const candidate: FlagDefinition = {
    key: command.key,
    type: command.type,
    owner: command.owner,
    ...(command.description ? { description: command.description } : {}),
    createdAt: now.toISOString(),
    ...(command.expiresAt ? { expiresAt: command.expiresAt } : {}),
    environments: {},
  };
  throwIfInvalid(validateFlag(candidate, scopeOf(state)).map((e) => fieldProblem(e)));
  const data: FlagCreatedV1 = {
    project: state.project,
    flagKey: command.key,
    flagType: command.type,
    owner: command.owner,
    description: command.description ?? '',
    reason: command.reason,
    rulesetVersion: state.version + 1,
    ...(command.expiresAt ? { expiresAt: command.expiresAt } : {}),
  };
  return [event(state, 'FlagCreated', command.key, data, origin)];
}

/** Replaces a flag's whole configuration in one environment (rules, targets, rollout, on/off). */
export function decideUpdateEnvironment(
  state: ProjectFlagsState,
  command: UpdateEnvironment,
  origin: Origin,
): Decision {
  const flag = flagOf(state, command.key);
  assertEnvironment(state, command.environment);
  throwIfInvalid(environmentProblems(state, flag, command.environment, command.config));
  const before = flag.definition.environments[command.environment] ?? { enabled: false };
  if (sameJson(before, command.config)) return [];
  const forced = turnsOn(before, command.config) ? checkEnablementGuard(command) : undefined;
  const data: FlagUpdatedV1 = {
    project: state.project,
    flagKey: command.key,
    environment: command.environment,
    change: 'rules',
    before: toRecord(before),
    after: toRecord(command.config),
    reason: command.reason,
    rulesetVersion: state.version + 1,
    ...(forced ? { forced } : {}),
  };
  return [event(state, 'FlagUpdated', command.key, data, origin)];
}

/** True when the environment switch goes from off to on. */
export function turnsOn(before: FlagEnvironment | undefined, after: FlagEnvironment): boolean {
  return before?.enabled !== true && after.enabled;
}

/** Refuses (409 naming the instances) unless forced; returns what to record when forced. */
function checkEnablementGuard(command: UpdateEnvironment): FlagGuardOverride | undefined {
  const fleet = command.fleet;
  if (!fleet) throw new Error('the enablement guard needs a fleet snapshot');
  const offenders = fleet.ok ? undeclaredReaders(command.key, fleet.instances) : [];
  if (fleet.ok && offenders.length === 0) return undefined;
  if (command.force) {
    return { reason: command.force.reason, instances: offenders.map((o) => o.instanceId) };
  }
  if (!fleet.ok) {
    throw new DomainError(
      'conflict',
      `cannot turn "${command.key}" on in ${command.environment}: the fleet cannot be checked (${fleet.error}); force it with a reason to override`,
      { flag: command.key, environment: command.environment, fleet: fleet.error },
    );
  }
  const names = offenders.map((o) => `${o.instanceId} (${o.service})`).join(', ');
  throw new DomainError(
    'conflict',
    `cannot turn "${command.key}" on in ${command.environment}: live instances run a build that does not declare it: ${names}; finish the rollout first, or force it with a reason`,
    { flag: command.key, environment: command.environment, instances: offenders },
  );
}

export function decideSetRollout(
  state: ProjectFlagsState,
  command: SetRollout,
  origin: Origin,
): Decision {
  const flag = flagOf(state, command.key);
  assertEnvironment(state, command.environment);
  const before = flag.definition.environments[command.environment] ?? { enabled: false };
  const groupId = command.groupId ?? before.rollout?.groupId;
  const after: FlagEnvironment = {
    ...before,
    rollout: { percentage: command.percentage, ...(groupId ? { groupId } : {}) },
  };
  throwIfInvalid(environmentProblems(state, flag, command.environment, after));
  if (sameJson(before, after)) return [];
  const data: FlagUpdatedV1 = {
    project: state.project,
    flagKey: command.key,
    environment: command.environment,
    change: 'rollout',
    before: toRecord(before),
    after: toRecord(after),
    reason: command.reason,
    rulesetVersion: state.version + 1,
  };
  return [event(state, 'FlagUpdated', command.key, data, origin)];
}

export function decideUpdateDefinition(
  state: ProjectFlagsState,
  command: UpdateDefinition,
  origin: Origin,
): Decision {
  const flag = flagOf(state, command.key);
  const beforeFields = pickDefinitionFields(flag.definition);
  const afterFields: Record<string, unknown> = { ...beforeFields };
  if (command.owner !== undefined) afterFields['owner'] = command.owner;
  if (command.description !== undefined) afterFields['description'] = command.description;
  if (command.prerequisites !== undefined) afterFields['prerequisites'] = command.prerequisites;
  const candidate = { ...flag.definition, ...afterFields };
  throwIfInvalid(validateFlag(candidate, scopeOf(state)).map((e) => fieldProblem(e)));
  if (sameJson(beforeFields, afterFields)) return [];
  const data: FlagUpdatedV1 = {
    project: state.project,
    flagKey: command.key,
    change: 'definition',
    before: beforeFields,
    after: afterFields,
    reason: command.reason,
    rulesetVersion: state.version + 1,
  };
  return [event(state, 'FlagUpdated', command.key, data, origin)];
}

/** The kill switch: off in one environment, whatever the rules say. Killing an off flag is a no-op. */
export function decideKill(
  state: ProjectFlagsState,
  command: { key: string; environment: string; reason: string },
  origin: Origin,
): Decision {
  const flag = flagOf(state, command.key);
  assertEnvironment(state, command.environment);
  const before = flag.definition.environments[command.environment];
  if (!before?.enabled) return [];
  const data: FlagKilledV1 = {
    project: state.project,
    flagKey: command.key,
    environment: command.environment,
    before: toRecord(before),
    reason: command.reason,
    rulesetVersion: state.version + 1,
  };
  return [event(state, 'FlagKilled', command.key, data, origin)];
}

/** Archives a flag and tombstones its name for good; refused while another flag depends on it. */
export function decideRetire(
  state: ProjectFlagsState,
  command: { key: string; reason: string },
  origin: Origin,
): Decision {
  const flag = flagOf(state, command.key);
  const dependents = Object.values(state.flags)
    .filter((f) => f.definition.prerequisites?.some((p) => p.flag === command.key))
    .map((f) => f.definition.key);
  if (dependents.length > 0) {
    throw new DomainError(
      'conflict',
      `flag "${command.key}" is a prerequisite of ${dependents.join(', ')}: remove it there first`,
      { flag: command.key, dependents },
    );
  }
  const data: FlagRetiredV1 = {
    project: state.project,
    flagKey: command.key,
    before: toRecord(flag.definition),
    reason: command.reason,
    rulesetVersion: state.version + 1,
  };
  return [event(state, 'FlagRetired', command.key, data, origin)];
}

export function decideExtend(
  state: ProjectFlagsState,
  command: { key: string; expiresAt: string; reason: string },
  origin: Origin,
  now: Date,
): Decision {
  const flag = flagOf(state, command.key);
  const instant = parseIsoInstant(command.expiresAt);
  if (instant === undefined) {
    throw new FlagInputError([
      { field: 'expiresAt', problem: 'must be an ISO 8601 date-time with a time zone' },
    ]);
  }
  if (instant <= now.getTime()) {
    throw new FlagInputError([{ field: 'expiresAt', problem: 'must be in the future' }]);
  }
  const data: FlagExtendedV1 = {
    project: state.project,
    flagKey: command.key,
    expiresAt: command.expiresAt,
    reason: command.reason,
    rulesetVersion: state.version + 1,
    ...(flag.definition.expiresAt ? { expiresAtBefore: flag.definition.expiresAt } : {}),
  };
  return [event(state, 'FlagExtended', command.key, data, origin)];
}

/**
 * The flag-debt sweep: one event per flag and condition when it begins, never again for the same
 * date (an extension resets it). `now` is the sweep's clock, given by the edge.
 */
export function decideFlagDebt(state: ProjectFlagsState, now: Date, origin: Origin): Decision {
  const events: NewEvent[] = [];
  const next = () => state.version + events.length + 1;
  for (const key of Object.keys(state.flags).sort()) {
    const { definition, debt } = state.flags[key]!;
    const expiry = expiryDate(definition);
    if (expiry && isExpired(definition, now) && debt.expired !== expiry.toISOString()) {
      events.push(debtEvent(state, definition, 'expired', expiry, next(), origin));
    }
    if (isPotentiallyStale(definition, now) && debt.potentiallyStale === undefined) {
      const since = potentiallyStaleDate(definition) ?? expiry ?? now;
      events.push(debtEvent(state, definition, 'potentially-stale', since, next(), origin));
    }
  }
  return events;
}

function debtEvent(
  state: ProjectFlagsState,
  definition: FlagDefinition,
  condition: FlagDebtDetectedV1['condition'],
  since: Date,
  rulesetVersion: number,
  origin: Origin,
): NewEvent {
  const data: FlagDebtDetectedV1 = {
    project: state.project,
    flagKey: definition.key,
    flagType: definition.type,
    condition,
    since: since.toISOString(),
    owner: definition.owner ?? 'unknown',
    reason:
      condition === 'expired'
        ? 'past its expiry date: extend it or retire it'
        : "past its type's lifetime: is it still needed?",
    rulesetVersion,
  };
  return event(state, 'FlagDebtDetected', definition.key, data, origin);
}

export interface DefineSegment {
  readonly key: string;
  readonly description?: string;
  readonly constraints: readonly Constraint[];
  readonly reason: string;
}

/** Creates a segment or replaces its constraints; every rule using it follows at once. */
export function decideDefineSegment(
  state: ProjectFlagsState,
  command: DefineSegment,
  origin: Origin,
): Decision {
  assertProjectExists(state);
  const segments = state.segments ?? {};
  const candidate: Segment = {
    key: command.key,
    ...(command.description ? { description: command.description } : {}),
    constraints: command.constraints,
  };
  const others = Object.values(segments).filter((s) => s.key !== command.key);
  const prefix = `segments[${others.length}]`;
  const problems = validateRuleset({
    version: state.version,
    environments: state.environments,
    segments: [...others, candidate],
    flags: Object.values(state.flags).map((f) => f.definition),
  })
    .filter((error) => error.path === prefix || error.path.startsWith(`${prefix}.`))
    .map((error) =>
      fieldProblem(error, (path) => (path === prefix ? '(body)' : path.slice(prefix.length + 1))),
    );
  throwIfInvalid(problems);
  const before = segments[command.key];
  if (before && sameJson(before, candidate)) return [];
  const data: FlagSegmentDefinedV1 = {
    project: state.project,
    segment: command.key,
    constraints: command.constraints.map((c) => toRecord(c)),
    reason: command.reason,
    rulesetVersion: state.version + 1,
    ...(command.description ? { description: command.description } : {}),
    ...(before ? { before: before.constraints.map((c) => toRecord(c)) } : {}),
  };
  return [event(state, 'FlagSegmentDefined', `segment:${command.key}`, data, origin)];
}

/** Expired flags that block releases of a service reading `flagsRead` (when the project says so). */
export function releaseBlockingFlags(
  state: ProjectFlagsState,
  flagsRead: readonly string[],
  now: Date,
): FlagDefinition[] {
  if (!state.blockReleasesOnExpiredFlags) return [];
  return flagsRead
    .map((key) => state.flags[key]?.definition)
    .filter((d): d is FlagDefinition => d !== undefined && isExpired(d, now));
}

// ---- helpers -----------------------------------------------------------------------------------

function event(
  state: ProjectFlagsState,
  type: string,
  subject: string,
  data: object,
  origin: Origin,
): NewEvent {
  return {
    type,
    version: 1,
    actor: origin.actor,
    correlationId: `${state.project}/${subject}`,
    causationId: origin.causationId,
    key: state.project,
    data,
  };
}

function assertProjectExists(state: ProjectFlagsState): void {
  if (!state.exists) {
    throw new DomainError('not-found', `flag project "${state.project}" not found`, {
      field: 'project',
    });
  }
}

function flagOf(state: ProjectFlagsState, key: string): FlagState {
  assertProjectExists(state);
  const flag = state.flags[key];
  if (flag) return flag;
  const retired = state.retired[key];
  throw new DomainError(
    'not-found',
    retired
      ? `flag "${key}" was retired on ${retired.retiredAt}`
      : `flag "${key}" not found in project "${state.project}"`,
    { flag: key },
  );
}

function assertEnvironment(state: ProjectFlagsState, environment: string): void {
  if (!state.environments.includes(environment)) {
    throw new FlagInputError([
      {
        field: 'environment',
        problem: `unknown environment "${environment}" (known: ${state.environments.join(', ')})`,
      },
    ]);
  }
}

function scopeOf(state: ProjectFlagsState) {
  return {
    environments: state.environments,
    segments: Object.keys(state.segments ?? {}),
    flags: Object.values(state.flags).map((f) => f.definition),
  };
}

/** Validates the flag as it would be after the change; paths name fields of the request body. */
function environmentProblems(
  state: ProjectFlagsState,
  flag: FlagState,
  environment: string,
  config: FlagEnvironment,
): FieldProblem[] {
  const candidate = {
    ...flag.definition,
    environments: { ...flag.definition.environments, [environment]: config },
  };
  const prefix = `environments.${environment}`;
  return validateFlag(candidate, scopeOf(state)).map((error) =>
    fieldProblem(error, (path) =>
      path === prefix
        ? '(body)'
        : path.startsWith(`${prefix}.`)
          ? path.slice(prefix.length + 1)
          : path,
    ),
  );
}

function fieldProblem(
  error: ValidationError,
  rename: (path: string) => string = (path) => path,
): FieldProblem {
  return { field: rename(error.path) || '(body)', problem: error.message };
}

function throwIfInvalid(problems: readonly FieldProblem[]): void {
  if (problems.length > 0) throw new FlagInputError(problems);
}

function pickDefinitionFields(definition: FlagDefinition): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const field of DEFINITION_FIELDS) {
    if (definition[field] !== undefined) fields[field] = definition[field];
  }
  return fields;
}

function toRecord(value: object): Record<string, unknown> {
  return JSON.parse(JSON.stringify(value)) as Record<string, unknown>;
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
