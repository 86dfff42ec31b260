import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { TOPICS, type EventEnvelope } from '@rollgate/contracts';
import { expiryDate, potentiallyStaleDate, type FlagDefinition } from '@rollgate/flags-domain';
import {
  evolveProjectFlags,
  initialProjectState,
  type ProjectFlagsState,
} from '@rollgate/flags-domain/project';
import { eventTypesOn, readModelEvents, type EventLogContext } from '@rollgate/platform';
import { FlagProjectEntity, FlagSummaryEntity } from './flag.entity';

/**
 * Folds flag events into `flag_projects` (the whole project state, with the same pure fold the
 * write side uses) and `flag_summaries` (one row per flag, for list, stale and blocking queries).
 */
@Controller()
export class FlagsProjection {
  @EventPattern(readModelEvents('flags', ...eventTypesOn(TOPICS.flags)))
  async apply(@Payload() event: EventEnvelope, @Ctx() context: EventLogContext): Promise<void> {
    const manager = context.getManager();
    const project = (event.data as { project?: string }).project;
    if (!project) return;
    const projects = manager.getRepository(FlagProjectEntity);
    const row = await projects.findOneBy({ name: project });
    const before: ProjectFlagsState = row
      ? (JSON.parse(row.state) as ProjectFlagsState)
      : initialProjectState(project);
    // Sequences count the project stream: an event at or below the last one folded is a repeat.
    if (before.version >= (event.sequence ?? 0)) return;
    const after = evolveProjectFlags(before, event);
    await projects.save({
      name: project,
      version: after.version,
      blockReleasesOnExpired: after.blockReleasesOnExpiredFlags,
      state: JSON.stringify(after),
    });
    const flagKey = (event.data as { flagKey?: string }).flagKey;
    if (!flagKey) return;
    const summaries = manager.getRepository(FlagSummaryEntity);
    const live = after.flags[flagKey];
    if (live) {
      await summaries.save(summaryRow(project, live.definition, live.version));
      return;
    }
    const retired = after.retired[flagKey];
    const previous = before.flags[flagKey];
    if (retired && previous) {
      await summaries.save({
        ...summaryRow(project, previous.definition, after.version),
        enabledIn: '',
        retired: true,
        retiredAt: retired.retiredAt,
      });
    }
  }
}

function summaryRow(
  project: string,
  definition: FlagDefinition,
  version: number,
): FlagSummaryEntity {
  return {
    project,
    key: definition.key,
    type: definition.type,
    owner: definition.owner ?? '',
    description: definition.description ?? '',
    createdAt: definition.createdAt,
    expiresAt: expiryDate(definition)?.toISOString() ?? null,
    potentiallyStaleAt: potentiallyStaleDate(definition)?.toISOString() ?? null,
    enabledIn: Object.entries(definition.environments)
      .filter(([, environment]) => environment.enabled)
      .map(([name]) => name)
      .join(','),
    definition: JSON.stringify(definition),
    retired: false,
    retiredAt: null,
    version,
  };
}
