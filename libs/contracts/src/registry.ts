import type { EventDefinition, Upcaster } from './definition';
import { EventCatalog } from './catalog';
import { AnalysisVerdictReachedV1 } from './events/analysis';
import { FlagCreatedV1 } from './events/flags';
import { MigrationPlannedV1 } from './events/migrations';
import { ReleaseAbortedV1, ReleaseRequestedV1 } from './events/releases';
import { RouteAppliedV1 } from './events/routing';

/** Every published event. Adding a version here needs an upcaster from the previous one. */
export const PUBLISHED_EVENTS: readonly EventDefinition[] = [
  ReleaseRequestedV1,
  ReleaseAbortedV1,
  RouteAppliedV1,
  AnalysisVerdictReachedV1,
  FlagCreatedV1,
  MigrationPlannedV1,
] as EventDefinition[];

export const UPCASTERS: readonly Upcaster[] = [];

export const eventCatalog = new EventCatalog(PUBLISHED_EVENTS, UPCASTERS);
