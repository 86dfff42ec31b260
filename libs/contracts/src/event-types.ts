import type { EventEnvelope } from './envelope';
import type * as analysis from './events/analysis';
import type * as api from './events/api';
import type * as flags from './events/flags';
import type * as fleet from './events/fleet';
import type * as lowTraffic from './events/low-traffic';
import type * as migrations from './events/migrations';
import type * as policy from './events/policy';
import type * as releases from './events/releases';
import type * as routing from './events/routing';
import type * as subscriptions from './events/subscriptions';

/**
 * The `data` of every published type at its latest version: what a consumer sees after upcasting.
 * A new version of a type changes its entry here and in LATEST_EVENT_VERSIONS (a test holds both
 * to the catalog).
 */
export interface LatestEventData {
  ReleaseRequested: releases.ReleaseRequestedV2;
  ReleaseAborted: releases.ReleaseAbortedV1;
  ReleaseStepStarted: releases.ReleaseStepStartedV1;
  ReleaseStepCompleted: releases.ReleaseStepCompletedV2;
  ReleasePaused: releases.ReleasePausedV1;
  ReleaseResumed: releases.ReleaseResumedV1;
  ReleasePromoted: releases.ReleasePromotedV1;
  ReleaseRollbackStarted: releases.ReleaseRollbackStartedV1;
  ReleaseRolledBack: releases.ReleaseRolledBackV1;
  ReleaseSucceeded: releases.ReleaseSucceededV1;
  FleetDriftDetected: releases.FleetDriftDetectedV1;
  ReleaseApiGateChecked: api.ReleaseApiGateCheckedV1;
  ReleaseApiGateOverridden: api.ReleaseApiGateOverriddenV1;
  ApiDocumentStored: api.ApiDocumentStoredV1;
  RouteChangeRequested: routing.RouteChangeRequestedV1;
  RouteApplied: routing.RouteAppliedV1;
  RouteApplyFailed: routing.RouteApplyFailedV1;
  AnalysisRequested: analysis.AnalysisRequestedV1;
  AnalysisIntervalScored: analysis.AnalysisIntervalScoredV1;
  AnalysisVerdictReached: analysis.AnalysisVerdictReachedV1;
  CanaryConfigChanged: analysis.CanaryConfigChangedV1;
  AnalysisShareRaiseRequested: lowTraffic.AnalysisShareRaiseRequestedV1;
  ReleaseShareRaised: lowTraffic.ReleaseShareRaisedV1;
  SyntheticTrafficStarted: lowTraffic.SyntheticTrafficStartedV1;
  SyntheticTrafficStopped: lowTraffic.SyntheticTrafficStoppedV1;
  ServicePolicyChanged: policy.ServicePolicyChangedV1;
  FlagCreated: flags.FlagCreatedV1;
  FlagProjectConfigured: flags.FlagProjectConfiguredV1;
  FlagUpdated: flags.FlagUpdatedV1;
  FlagKilled: flags.FlagKilledV1;
  FlagRetired: flags.FlagRetiredV1;
  FlagExtended: flags.FlagExtendedV1;
  FlagDebtDetected: flags.FlagDebtDetectedV1;
  FlagSegmentDefined: flags.FlagSegmentDefinedV1;
  FlagRampStarted: flags.FlagRampStartedV1;
  FlagRampStepPassed: flags.FlagRampStepPassedV1;
  FlagRampHeld: flags.FlagRampHeldV1;
  FlagRampReverted: flags.FlagRampRevertedV1;
  FlagRampCompleted: flags.FlagRampCompletedV1;
  FlagRampCancelled: flags.FlagRampCancelledV1;
  MigrationPlanned: migrations.MigrationPlannedV1;
  MigrationPhaseStarted: migrations.MigrationPhaseStartedV1;
  MigrationPhaseCompleted: migrations.MigrationPhaseCompletedV1;
  MigrationBackfillProgressed: migrations.MigrationBackfillProgressedV1;
  MigrationContractRefused: migrations.MigrationContractRefusedV1;
  MigrationFailed: migrations.MigrationFailedV1;
  SubscriptionCreated: subscriptions.SubscriptionCreatedV1;
  SubscriptionDeleted: subscriptions.SubscriptionDeletedV1;
  InstanceStartRequested: fleet.InstanceStartRequestedV1;
  InstanceStopRequested: fleet.InstanceStopRequestedV1;
  InstanceStarted: fleet.InstanceStartedV1;
  InstanceStartFailed: fleet.InstanceStartFailedV1;
  InstanceStopped: fleet.InstanceStoppedV1;
  AgentHeartbeat: fleet.AgentHeartbeatV1;
  FleetAgentLost: fleet.FleetAgentLostV1;
}

export type EventType = keyof LatestEventData;

/** A decoded event at its latest version; `LatestEvent<'A' | 'B'>` is the union of both. */
export type LatestEvent<T extends EventType = EventType> = {
  [K in T]: EventEnvelope<LatestEventData[K], K> & { version: (typeof LATEST_EVENT_VERSIONS)[K] };
}[T];

/** The latest version of every type this package knows: what LatestEventData describes. */
export const LATEST_EVENT_VERSIONS = {
  ReleaseRequested: 2,
  ReleaseAborted: 1,
  ReleaseStepStarted: 1,
  ReleaseStepCompleted: 2,
  ReleasePaused: 1,
  ReleaseResumed: 1,
  ReleasePromoted: 1,
  ReleaseRollbackStarted: 1,
  ReleaseRolledBack: 1,
  ReleaseSucceeded: 1,
  FleetDriftDetected: 1,
  ReleaseApiGateChecked: 1,
  ReleaseApiGateOverridden: 1,
  ApiDocumentStored: 1,
  RouteChangeRequested: 1,
  RouteApplied: 1,
  RouteApplyFailed: 1,
  AnalysisRequested: 1,
  AnalysisIntervalScored: 1,
  AnalysisVerdictReached: 1,
  CanaryConfigChanged: 1,
  AnalysisShareRaiseRequested: 1,
  ReleaseShareRaised: 1,
  SyntheticTrafficStarted: 1,
  SyntheticTrafficStopped: 1,
  ServicePolicyChanged: 1,
  FlagCreated: 1,
  FlagProjectConfigured: 1,
  FlagUpdated: 1,
  FlagKilled: 1,
  FlagRetired: 1,
  FlagExtended: 1,
  FlagDebtDetected: 1,
  FlagSegmentDefined: 1,
  FlagRampStarted: 1,
  FlagRampStepPassed: 1,
  FlagRampHeld: 1,
  FlagRampReverted: 1,
  FlagRampCompleted: 1,
  FlagRampCancelled: 1,
  MigrationPlanned: 1,
  MigrationPhaseStarted: 1,
  MigrationPhaseCompleted: 1,
  MigrationBackfillProgressed: 1,
  MigrationContractRefused: 1,
  MigrationFailed: 1,
  SubscriptionCreated: 1,
  SubscriptionDeleted: 1,
  InstanceStartRequested: 1,
  InstanceStopRequested: 1,
  InstanceStarted: 1,
  InstanceStartFailed: 1,
  InstanceStopped: 1,
  AgentHeartbeat: 1,
  FleetAgentLost: 1,
} as const satisfies Record<EventType, number>;
