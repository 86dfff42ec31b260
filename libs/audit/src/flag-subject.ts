import { TOPICS, type EventEnvelope } from '@rollgate/contracts';
import {
  DEFAULT_PROJECT,
  evolveProjectFlags,
  initialProjectState,
  type FlagState,
  type ProjectFlagsState,
  type RetiredFlag,
} from '@rollgate/flags-domain/project';
import type { AuditSubject } from './replay';
import { canonicalJson } from './render';

/** One flag as the log tells it, through the flags service's own fold (libs/flags-domain). */
export interface FlagAuditState {
  project: string;
  flagKey: string;
  flag: FlagState | null;
  retired: RetiredFlag | null;
  /** The project's fold, fed with this flag's events and the project's own settings. */
  projectState: ProjectFlagsState;
}

/** `key` (default project) or `project/key`. */
export function parseFlagName(name: string): { project: string; flagKey: string } {
  const slash = name.indexOf('/');
  return slash === -1
    ? { project: DEFAULT_PROJECT, flagKey: name }
    : { project: name.slice(0, slash), flagKey: name.slice(slash + 1) };
}

const compact = (value: unknown) => canonicalJson(value, 0).trim();

export function flagSubject(name: string): AuditSubject<FlagAuditState> {
  const { project, flagKey } = parseFlagName(name);
  const view = (projectState: ProjectFlagsState): FlagAuditState => ({
    project,
    flagKey,
    flag: projectState.flags[flagKey] ?? null,
    retired: projectState.retired[flagKey] ?? null,
    projectState,
  });
  const belongs = (event: EventEnvelope) => {
    const data = event.data as { project?: unknown; flagKey?: unknown } | null;
    if (data?.project !== project) return false;
    // Project settings (environments) shape every flag of the project.
    return data.flagKey === flagKey || event.type === 'FlagProjectConfigured';
  };
  return {
    kind: 'flag',
    id: `${project}/${flagKey}`,
    topics: [TOPICS.flags.name],
    belongs,
    initial: () => view(initialProjectState(project)),
    evolve: (state, event) => view(evolveProjectFlags(state.projectState, event)),
    describe: (event) => {
      const data = event.data as Record<string, unknown>;
      const what = event.type.replace(/^Flag/, '').replace(/([a-z])([A-Z])/g, '$1 $2');
      const environment =
        typeof data['environment'] === 'string' ? ` in ${data['environment']}` : '';
      const change = typeof data['change'] === 'string' ? ` (${data['change']})` : '';
      return {
        summary: `${what.toLowerCase()}${change}${environment}`,
        reason: typeof data['reason'] === 'string' ? data['reason'] : null,
        details: data,
      };
    },
    digest: (state) => {
      const fields: Record<string, string> = {};
      if (state.retired)
        fields['retired'] = `${state.retired.retiredAt} by ${state.retired.retiredBy}`;
      const flag = state.flag;
      if (!flag) return fields;
      fields['type'] = flag.definition.type;
      if (flag.definition.owner) fields['owner'] = flag.definition.owner;
      if (flag.definition.expiresAt) fields['expires'] = flag.definition.expiresAt;
      for (const [environment, config] of Object.entries(flag.definition.environments).sort(
        ([a], [b]) => (a < b ? -1 : a > b ? 1 : 0),
      )) {
        fields[`${environment}`] = config.enabled ? 'on' : 'off';
        if (config.rollout) fields[`${environment} rollout`] = compact(config.rollout);
        if (config.rules?.length) fields[`${environment} rules`] = compact(config.rules);
        if (config.targets) fields[`${environment} targets`] = compact(config.targets);
      }
      return fields;
    },
  };
}
