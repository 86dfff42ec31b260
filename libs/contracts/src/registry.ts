import type { EventDefinition, Upcaster } from './definition';
import { EventCatalog } from './catalog';
import {
  AnalysisIntervalScoredV1,
  AnalysisRequestedV1,
  AnalysisVerdictReachedV1,
  CanaryConfigChangedV1,
} from './events/analysis';
import {
  FlagCreatedV1,
  FlagDebtDetectedV1,
  FlagExtendedV1,
  FlagKilledV1,
  FlagProjectConfiguredV1,
  FlagRampCancelledV1,
  FlagRampCompletedV1,
  FlagRampHeldV1,
  FlagRampRevertedV1,
  FlagRampStartedV1,
  FlagRampStepPassedV1,
  FlagRetiredV1,
  FlagSegmentDefinedV1,
  FlagUpdatedV1,
} from './events/flags';
import {
  MigrationBackfillProgressedV1,
  MigrationContractRefusedV1,
  MigrationFailedV1,
  MigrationPhaseCompletedV1,
  MigrationPhaseStartedV1,
  MigrationPlannedV1,
} from './events/migrations';
import {
  FleetDriftDetectedV1,
  ReleaseAbortedV1,
  ReleasePausedV1,
  ReleasePromotedV1,
  ReleaseRequestedV1,
  ReleaseResumedV1,
  ReleaseRollbackStartedV1,
  ReleaseRolledBackV1,
  ReleaseStepCompletedV1,
  ReleaseStepCompletedV2,
  ReleaseStepStartedV1,
  ReleaseSucceededV1,
  upcastReleaseStepCompletedV1,
  ReleaseRequestedV2,
  upcastReleaseRequestedV1,
} from './events/releases';
import {
  ApiDocumentStoredV1,
  ReleaseApiGateCheckedV1,
  ReleaseApiGateOverriddenV1,
} from './events/api';
import {
  AnalysisShareRaiseRequestedV1,
  ReleaseShareRaisedV1,
  SyntheticTrafficStartedV1,
  SyntheticTrafficStoppedV1,
} from './events/low-traffic';
import { ServicePolicyChangedV1 } from './events/policy';
import { RouteAppliedV1, RouteApplyFailedV1, RouteChangeRequestedV1 } from './events/routing';
import { SubscriptionCreatedV1, SubscriptionDeletedV1 } from './events/subscriptions';
import {
  AgentHeartbeatV1,
  FleetAgentLostV1,
  InstanceStartedV1,
  InstanceStartFailedV1,
  InstanceStartRequestedV1,
  InstanceStoppedV1,
  InstanceStopRequestedV1,
} from './events/fleet';

/** Every published event. Adding a version here needs an upcaster from the previous one. */
export const PUBLISHED_EVENTS: readonly EventDefinition[] = [
  ReleaseRequestedV1,
  ReleaseRequestedV2,
  ReleaseAbortedV1,
  ReleaseStepStartedV1,
  ReleaseStepCompletedV1,
  ReleaseStepCompletedV2,
  ReleasePausedV1,
  ReleaseResumedV1,
  ReleasePromotedV1,
  ReleaseRollbackStartedV1,
  ReleaseRolledBackV1,
  ReleaseSucceededV1,
  FleetDriftDetectedV1,
  ReleaseApiGateCheckedV1,
  ReleaseApiGateOverriddenV1,
  ApiDocumentStoredV1,
  RouteChangeRequestedV1,
  RouteAppliedV1,
  RouteApplyFailedV1,
  AnalysisRequestedV1,
  AnalysisIntervalScoredV1,
  AnalysisVerdictReachedV1,
  CanaryConfigChangedV1,
  AnalysisShareRaiseRequestedV1,
  ReleaseShareRaisedV1,
  SyntheticTrafficStartedV1,
  SyntheticTrafficStoppedV1,
  ServicePolicyChangedV1,
  FlagCreatedV1,
  FlagProjectConfiguredV1,
  FlagUpdatedV1,
  FlagKilledV1,
  FlagRetiredV1,
  FlagExtendedV1,
  FlagDebtDetectedV1,
  FlagSegmentDefinedV1,
  FlagRampStartedV1,
  FlagRampStepPassedV1,
  FlagRampHeldV1,
  FlagRampRevertedV1,
  FlagRampCompletedV1,
  FlagRampCancelledV1,
  MigrationPlannedV1,
  MigrationPhaseStartedV1,
  MigrationPhaseCompletedV1,
  MigrationBackfillProgressedV1,
  MigrationContractRefusedV1,
  MigrationFailedV1,
  SubscriptionCreatedV1,
  SubscriptionDeletedV1,
  InstanceStartRequestedV1,
  InstanceStopRequestedV1,
  InstanceStartedV1,
  InstanceStartFailedV1,
  InstanceStoppedV1,
  AgentHeartbeatV1,
  FleetAgentLostV1,
] as EventDefinition[];

export const UPCASTERS: readonly Upcaster[] = [
  {
    type: 'ReleaseRequested',
    fromVersion: 1,
    upcast: (data) => upcastReleaseRequestedV1(data as ReleaseRequestedV1),
  },
  {
    type: 'ReleaseStepCompleted',
    fromVersion: 1,
    upcast: (data) => upcastReleaseStepCompletedV1(data as ReleaseStepCompletedV1),
  },
];

export const eventCatalog = new EventCatalog(PUBLISHED_EVENTS, UPCASTERS);
