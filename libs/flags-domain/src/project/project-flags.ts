import type {
  EventEnvelope,
  FlagCreatedV1,
  FlagDebtDetectedV1,
  FlagExtendedV1,
  FlagKilledV1,
  FlagProjectConfiguredV1,
  FlagRetiredV1,
  FlagSegmentDefinedV1,
  FlagUpdatedV1,
} from '@rollgate/contracts';
import type { Aggregate } from '@rollgate/event-sourcing';
import {
  DEFAULT_ENVIRONMENTS,
  type FlagDefinition,
  type FlagEnvironment,
  type RulesetDefinition,
  type Segment,
} from '../model';
import { evolveRamps, type RampState } from './ramp';

/**
 * All flags of one project are one event stream: the project's ruleset version is the stream's
 * sequence number, so it grows by one with every change, and two commands on one project can
 * never both act on a stale ruleset. Project-wide rules (prerequisite cycles, tombstoned names)
 * are checked against one consistent state.
 */

export const DEFAULT_PROJECT = 'default';

export function projectStreamId(project: string): string {
  return `flag-project:${project}`;
}

export interface FlagDebtNotices {
  /** `since` of the potentially-stale condition already reported. */
  readonly potentiallyStale?: string;
  readonly expired?: string;
}

export interface FlagState {
  readonly definition: FlagDefinition;
  readonly debt: FlagDebtNotices;
  /** Version of the last change to this flag. */
  readonly version: number;
}

export interface RetiredFlag {
  readonly retiredAt: string;
  readonly retiredBy: string;
  readonly reason: string;
}

export interface ProjectFlagsState {
  readonly project: string;
  /** The default project always exists; any other once it was configured. */
  readonly exists: boolean;
  /** Ruleset version: the sequence of the last event folded in (0 before any). */
  readonly version: number;
  readonly environments: readonly string[];
  readonly blockReleasesOnExpiredFlags: boolean;
  /** Owner services: who a service-limited token must be able to touch (empty: nobody). */
  readonly services: readonly string[];
  readonly flags: Readonly<Record<string, FlagState>>;
  /** Tombstones: a retired name can never be used again in this project. */
  readonly retired: Readonly<Record<string, RetiredFlag>>;
  /** Named constraint lists that rules of any flag refer to by key. */
  readonly segments: Readonly<Record<string, Segment>>;
  /** Guarded rollouts by `flag/environment`: the latest one, running or ended. */
  readonly ramps?: Readonly<Record<string, RampState>>;
}

export function initialProjectState(project: string): ProjectFlagsState {
  return {
    project,
    exists: project === DEFAULT_PROJECT,
    version: 0,
    environments: DEFAULT_ENVIRONMENTS,
    blockReleasesOnExpiredFlags: false,
    services: [],
    flags: {},
    retired: {},
    segments: {},
    ramps: {},
  };
}

/** The aggregate of one project's stream (the fold is pure; time comes from the events). */
export function projectFlagsAggregate(project: string): Aggregate<ProjectFlagsState> {
  return {
    name: 'flag-project',
    initial: () => initialProjectState(project),
    evolve: evolveProjectFlags,
  };
}

export function evolveProjectFlags(
  state: ProjectFlagsState,
  event: EventEnvelope,
): ProjectFlagsState {
  const next = applyEvent(state, event);
  if (next === state) return state;
  return { ...next, version: event.sequence ?? state.version + 1 };
}

function applyEvent(state: ProjectFlagsState, event: EventEnvelope): ProjectFlagsState {
  switch (event.type) {
    case 'FlagProjectConfigured': {
      const data = event.data as FlagProjectConfiguredV1;
      return {
        ...state,
        exists: true,
        environments: [...data.environments],
        blockReleasesOnExpiredFlags: data.blockReleasesOnExpiredFlags,
        services: [...(data.services ?? [])],
      };
    }
    case 'FlagCreated': {
      const data = event.data as FlagCreatedV1;
      const environments = Object.fromEntries(
        state.environments.map((name) => [name, { enabled: false }]),
      );
      const definition: FlagDefinition = {
        key: data.flagKey,
        type: data.flagType,
        owner: data.owner,
        ...(data.description ? { description: data.description } : {}),
        createdAt: event.occurredAt,
        ...(data.expiresAt ? { expiresAt: data.expiresAt } : {}),
        environments,
      };
      return withFlag(state, data.flagKey, { definition, debt: {}, version: 0 }, event);
    }
    case 'FlagUpdated': {
      const data = event.data as FlagUpdatedV1;
      const flag = state.flags[data.flagKey];
      if (!flag) return state;
      const definition =
        data.environment === undefined
          ? withDefinitionFields(flag.definition, data.after)
          : withEnvironment(
              flag.definition,
              data.environment,
              data.after as unknown as FlagEnvironment,
            );
      return withFlag(state, data.flagKey, { ...flag, definition }, event);
    }
    case 'FlagKilled': {
      const data = event.data as FlagKilledV1;
      const flag = state.flags[data.flagKey];
      if (!flag) return state;
      const current = flag.definition.environments[data.environment] ?? { enabled: false };
      const definition = withEnvironment(flag.definition, data.environment, {
        ...current,
        enabled: false,
      });
      return withFlag(state, data.flagKey, { ...flag, definition }, event);
    }
    case 'FlagRetired': {
      const data = event.data as FlagRetiredV1;
      const flags = { ...state.flags };
      delete flags[data.flagKey];
      const tombstone = {
        retiredAt: event.occurredAt,
        retiredBy: event.actor,
        reason: data.reason,
      };
      return { ...state, flags, retired: { ...state.retired, [data.flagKey]: tombstone } };
    }
    case 'FlagExtended': {
      const data = event.data as FlagExtendedV1;
      const flag = state.flags[data.flagKey];
      if (!flag) return state;
      const definition = { ...flag.definition, expiresAt: data.expiresAt };
      // A new date is a new deadline: debt is reported again when it passes.
      return withFlag(state, data.flagKey, { ...flag, definition, debt: {} }, event);
    }
    case 'FlagDebtDetected': {
      const data = event.data as FlagDebtDetectedV1;
      const flag = state.flags[data.flagKey];
      if (!flag) return state;
      const debt =
        data.condition === 'expired'
          ? { ...flag.debt, expired: data.since }
          : { ...flag.debt, potentiallyStale: data.since };
      return withFlag(state, data.flagKey, { ...flag, debt }, event);
    }
    case 'FlagSegmentDefined': {
      const data = event.data as FlagSegmentDefinedV1;
      const segment: Segment = {
        key: data.segment,
        ...(data.description ? { description: data.description } : {}),
        constraints: data.constraints as unknown as Segment['constraints'],
      };
      // Older read models stored state without segments.
      return { ...state, segments: { ...(state.segments ?? {}), [data.segment]: segment } };
    }
    default:
      return evolveRamps(state, event);
  }
}

function withFlag(
  state: ProjectFlagsState,
  key: string,
  flag: FlagState,
  event: EventEnvelope,
): ProjectFlagsState {
  const version = event.sequence ?? state.version + 1;
  return { ...state, flags: { ...state.flags, [key]: { ...flag, version } } };
}

function withEnvironment(
  definition: FlagDefinition,
  environment: string,
  config: FlagEnvironment,
): FlagDefinition {
  return { ...definition, environments: { ...definition.environments, [environment]: config } };
}

/** The fields a definition change may carry (the rest of a flag changes through its own events). */
export const DEFINITION_FIELDS = ['owner', 'description', 'prerequisites'] as const;

function withDefinitionFields(
  definition: FlagDefinition,
  after: Record<string, unknown>,
): FlagDefinition {
  const next: Record<string, unknown> = { ...definition };
  for (const field of DEFINITION_FIELDS) {
    if (after[field] === undefined) delete next[field];
    else next[field] = after[field];
  }
  return next as unknown as FlagDefinition;
}

/** What SDKs evaluate: every live flag of the project, in key order, at the project's version. */
export function rulesetOf(state: ProjectFlagsState): RulesetDefinition {
  const keys = Object.keys(state.flags).sort();
  const segments = state.segments ?? {};
  return {
    version: state.version,
    environments: [...state.environments],
    segments: Object.keys(segments)
      .sort()
      .map((key) => segments[key]!),
    flags: keys.map((key) => state.flags[key]!.definition),
  };
}
