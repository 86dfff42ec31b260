import {
  ErrorCode,
  OpenFeatureEventEmitter,
  ProviderEvents,
  type EvaluationContext,
  type FlagMetadata,
  type JsonValue,
  type Provider,
  type ResolutionDetails,
} from '@openfeature/server-sdk';
import { FlagsClient, type FlagsClientOptions } from './client';
import type { FlagDetails } from './resolve';

/**
 * An OpenFeature server provider over a FlagsClient: local evaluation, OpenFeature reasons
 * (STATIC, TARGETING_MATCH, SPLIT, DISABLED, DEFAULT, ERROR), variants, error codes and the
 * provider events Ready, ConfigurationChanged, Stale and Error.
 *
 * The OpenFeature `targetingKey` is the `userId` attribute unless the context sets one.
 * Dates become ISO 8601 text; nested objects and arrays are dropped (rules compare only
 * strings, numbers and booleans).
 */
export class RollgateProvider implements Provider {
  readonly metadata = { name: 'rollgate' } as const;
  readonly runsOn = 'server' as const;
  readonly events = new OpenFeatureEventEmitter();
  readonly client: FlagsClient;
  private readonly ownsClient: boolean;
  private reportedError = false;

  /** Give options to let the provider own its client, or a client you manage yourself. */
  constructor(clientOrOptions: FlagsClient | FlagsClientOptions) {
    this.ownsClient = !(clientOrOptions instanceof FlagsClient);
    this.client =
      clientOrOptions instanceof FlagsClient ? clientOrOptions : new FlagsClient(clientOrOptions);
    this.client.on('ready', ({ version, recovered }) => {
      this.reportedError = false;
      // The first READY is emitted by the OpenFeature SDK when initialize() resolves.
      if (recovered || this.initializeFailed) {
        this.initializeFailed = false;
        this.events.emit(ProviderEvents.Ready, { metadata: { rulesetVersion: version } });
      }
    });
    this.client.on('changed', ({ version, previousVersion, flagsChanged }) => {
      this.events.emit(ProviderEvents.ConfigurationChanged, {
        flagsChanged: [...flagsChanged],
        metadata: { rulesetVersion: version, previousRulesetVersion: previousVersion ?? -1 },
      });
    });
    this.client.on('stale', ({ reason, version }) => {
      this.events.emit(ProviderEvents.Stale, {
        message: reason,
        metadata: { rulesetVersion: version ?? -1 },
      });
    });
    this.client.on('error', (error) => {
      // With a ruleset in hand, failures show as STALE; ERROR means nothing can be served.
      if (this.client.isReady() || this.reportedError || !this.initialized) return;
      this.reportedError = true;
      this.events.emit(ProviderEvents.Error, {
        message: error.message,
        errorCode: ErrorCode.PROVIDER_NOT_READY,
      });
    });
  }

  private initialized = false;
  private initializeFailed = false;

  /** Resolves once a ruleset is loaded; rejects (PROVIDER_ERROR) if none comes in time. */
  async initialize(): Promise<void> {
    try {
      await this.client.start();
    } catch (error) {
      this.initializeFailed = true;
      throw error;
    } finally {
      this.initialized = true;
    }
  }

  async onClose(): Promise<void> {
    if (this.ownsClient) await this.client.close();
  }

  async resolveBooleanEvaluation(
    flagKey: string,
    defaultValue: boolean,
    context: EvaluationContext,
  ): Promise<ResolutionDetails<boolean>> {
    return toResolution(
      this.client.getBooleanDetails(flagKey, defaultValue, toAttributes(context)),
    );
  }

  async resolveStringEvaluation(
    flagKey: string,
    defaultValue: string,
    context: EvaluationContext,
  ): Promise<ResolutionDetails<string>> {
    return toResolution(this.client.getStringDetails(flagKey, defaultValue, toAttributes(context)));
  }

  async resolveNumberEvaluation(
    flagKey: string,
    defaultValue: number,
    context: EvaluationContext,
  ): Promise<ResolutionDetails<number>> {
    return toResolution(this.client.getNumberDetails(flagKey, defaultValue, toAttributes(context)));
  }

  async resolveObjectEvaluation<T extends JsonValue>(
    flagKey: string,
    defaultValue: T,
    context: EvaluationContext,
  ): Promise<ResolutionDetails<T>> {
    const details = this.client.getObjectDetails(flagKey, defaultValue, toAttributes(context));
    return toResolution(details as FlagDetails<T>);
  }
}

/** OpenFeature context → Rollgate attributes; anything that is not an object is passed on as is. */
function toAttributes(context: EvaluationContext): unknown {
  if (typeof context !== 'object' || context === null || Array.isArray(context)) return context;
  const attributes: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(context)) {
    if (value === undefined || value === null) continue;
    if (typeof value === 'object' && !(value instanceof Date)) continue; // structures: not rule input
    attributes[key] = value;
  }
  if (attributes['userId'] === undefined && typeof context.targetingKey === 'string') {
    attributes['userId'] = context.targetingKey;
  }
  return attributes;
}

function toResolution<T>(details: FlagDetails<T>): ResolutionDetails<T> {
  const flagMetadata: FlagMetadata = { stale: details.stale };
  if (details.rulesetVersion !== null) flagMetadata['rulesetVersion'] = details.rulesetVersion;
  if (details.evaluationReason) flagMetadata['evaluationReason'] = details.evaluationReason;
  if (details.ruleIndex !== undefined) flagMetadata['ruleIndex'] = details.ruleIndex;
  if (details.bucket !== undefined) flagMetadata['bucket'] = details.bucket;
  const resolution: ResolutionDetails<T> = {
    value: details.value,
    reason: details.reason,
    flagMetadata,
  };
  if (details.variant !== undefined) resolution.variant = details.variant;
  if (details.errorCode !== undefined) {
    resolution.errorCode = details.errorCode as ErrorCode;
    resolution.errorMessage = details.errorMessage;
  }
  return resolution;
}
