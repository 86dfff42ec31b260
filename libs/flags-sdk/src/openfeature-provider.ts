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
  private current: FlagsClient;
  private readonly options: FlagsClientOptions | undefined;
  private initialized = false;
  private initializeFailed = false;
  private reportedError = false;

  /** Give options to let the provider own its client, or a client you manage yourself. */
  constructor(clientOrOptions: FlagsClient | FlagsClientOptions) {
    if (clientOrOptions instanceof FlagsClient) {
      this.current = clientOrOptions;
    } else {
      this.options = clientOrOptions;
      this.current = new FlagsClient(clientOrOptions);
    }
    this.follow(this.current);
  }

  /** The client evaluations go to (a new one after a shutdown, when the provider owns it). */
  get client(): FlagsClient {
    return this.current;
  }

  /** Resolves once a ruleset is loaded; rejects (PROVIDER_ERROR) if none comes in time. */
  async initialize(): Promise<void> {
    if (this.current.status === 'CLOSED' && this.options) {
      // Shut down earlier and set again: start over, as a new provider would.
      this.current = new FlagsClient(this.options);
      this.follow(this.current);
    }
    this.initialized = false;
    this.initializeFailed = false;
    this.reportedError = false;
    try {
      await this.current.start();
    } catch (error) {
      this.initializeFailed = true;
      throw error;
    } finally {
      this.initialized = true;
    }
  }

  /** Closes the client when the provider owns it; a client given to it is left to its owner. */
  async onClose(): Promise<void> {
    if (this.options) await this.current.close();
  }

  /** Client events → provider events, for as long as `client` is the current one. */
  private follow(client: FlagsClient): void {
    const isCurrent = () => client === this.current;
    client.on('ready', ({ version, recovered }) => {
      if (!isCurrent()) return;
      this.reportedError = false;
      // The first READY is emitted by the OpenFeature SDK when initialize() resolves.
      if (recovered || this.initializeFailed) {
        this.initializeFailed = false;
        this.events.emit(ProviderEvents.Ready, { metadata: { rulesetVersion: version } });
      }
    });
    client.on('changed', ({ version, previousVersion, flagsChanged }) => {
      if (!isCurrent()) return;
      this.events.emit(ProviderEvents.ConfigurationChanged, {
        flagsChanged: [...flagsChanged],
        metadata: { rulesetVersion: version, previousRulesetVersion: previousVersion ?? -1 },
      });
    });
    client.on('stale', ({ reason, version }) => {
      if (!isCurrent()) return;
      this.events.emit(ProviderEvents.Stale, {
        message: reason,
        metadata: { rulesetVersion: version ?? -1 },
      });
    });
    client.on('error', (error) => {
      // With a ruleset in hand, failures show as STALE; ERROR means nothing can be served.
      if (!isCurrent() || client.isReady() || this.reportedError || !this.initialized) return;
      this.reportedError = true;
      this.events.emit(ProviderEvents.Error, {
        message: error.message,
        errorCode: ErrorCode.PROVIDER_NOT_READY,
      });
    });
  }

  async resolveBooleanEvaluation(
    flagKey: string,
    defaultValue: boolean,
    context: EvaluationContext,
  ): Promise<ResolutionDetails<boolean>> {
    return toResolution(
      this.current.getBooleanDetails(flagKey, defaultValue, toAttributes(context)),
    );
  }

  async resolveStringEvaluation(
    flagKey: string,
    defaultValue: string,
    context: EvaluationContext,
  ): Promise<ResolutionDetails<string>> {
    return toResolution(
      this.current.getStringDetails(flagKey, defaultValue, toAttributes(context)),
    );
  }

  async resolveNumberEvaluation(
    flagKey: string,
    defaultValue: number,
    context: EvaluationContext,
  ): Promise<ResolutionDetails<number>> {
    return toResolution(
      this.current.getNumberDetails(flagKey, defaultValue, toAttributes(context)),
    );
  }

  async resolveObjectEvaluation<T extends JsonValue>(
    flagKey: string,
    defaultValue: T,
    context: EvaluationContext,
  ): Promise<ResolutionDetails<T>> {
    const details = this.current.getObjectDetails(flagKey, defaultValue, toAttributes(context));
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
