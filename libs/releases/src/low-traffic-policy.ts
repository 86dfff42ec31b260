import type { LowTrafficChoicesV1 } from '@rollgate/contracts';

/**
 * What a service's policy allows Rollgate to do when its traffic is too low to compare canary and
 * baseline (issue 12, item 4): `minimumRequests`, `maxWindowFactor`, `raiseShare: {maxPercent}`,
 * `synthetic: {rps, mix: [{method, path, weight}]}`, `thresholdFallback: 'auto' | 'confirm'`.
 * Every field is optional: what is left out keeps the built-in behaviour (extend the window, fall
 * back to the threshold judge without asking anyone).
 *
 * The policy (`lowTraffic:` in rollgate.yaml) is validated and stored by the orchestrator's policy
 * module; a release takes it as a default (a release request may override it) and carries it on
 * `ReleaseRequested.lowTraffic`, folded into `Release.lowTraffic`, so the reconciler and the
 * analysis read it from the release, never from the current policy. The shape (and its JSON
 * schema, `lowTrafficSchema`) is defined with the event in @rollgate/contracts.
 */
export type LowTrafficChoices = LowTrafficChoicesV1;
export type SyntheticTraffic = NonNullable<LowTrafficChoicesV1['synthetic']>;
export type SyntheticRequest = SyntheticTraffic['mix'][number];
