import {
  buildRuleset,
  evaluate,
  formatValidationError,
  type JsonValue,
  type Ruleset,
  type RulesetDefinition,
} from '@rollgate/flags-domain';
import { Emitter } from './emitter';
import { checkContext, resolve, type FlagDetails, type FlagValueType } from './resolve';
import { SseParser } from './sse';

export interface FlagsClientOptions {
  /** Base URL of the flags service (or of the embedded host), e.g. http://127.0.0.1:7104. */
  readonly url: string;
  /** The environment evaluations are for, e.g. "production". */
  readonly environment: string;
  /** The project whose ruleset to follow; "default" unless set. */
  readonly project?: string;
  /** Bearer token with the read scope. */
  readonly token?: string;
  /** Follow the server-sent events stream (default); false polls with ETags only. */
  readonly streaming?: boolean;
  /** ETag polling period while the stream is unavailable, or always when streaming is off. */
  readonly pollIntervalMs?: number;
  /** First delay before reconnecting the stream; doubles on each failure up to the maximum. */
  readonly reconnectDelayMs?: number;
  readonly maxReconnectDelayMs?: number;
  /** A stream silent for this long is presumed dead and reopened (the server pings every 15 s). */
  readonly streamIdleTimeoutMs?: number;
  /** Timeout of one request (the fetch, or opening the stream). */
  readonly requestTimeoutMs?: number;
  /** How long start() waits for the first ruleset before it rejects (the client keeps trying). */
  readonly initialTimeoutMs?: number;
  /** A ruleset to serve until the service answers (for example one saved to disk); stale until then. */
  readonly bootstrap?: RulesetDefinition;
  /** Another fetch implementation (a proxy, a custom agent). */
  readonly fetch?: typeof fetch;
  /** How often outcomes reported with track() are sent to the service (guarded rollouts). */
  readonly outcomesFlushIntervalMs?: number;
  /** Latencies kept per flag and cohort between two flushes (a uniform sample beyond that). */
  readonly maxLatencySamples?: number;
}

/** What the application saw when it did the work behind a flag (see `FlagsClient.track`). */
export interface Outcome {
  readonly ok: boolean;
  readonly latencyMs?: number;
}

/** Counts of one cohort of one flag since the last flush. */
interface CohortTally {
  requests: number;
  errors: number;
  latencies: number[];
  /** Latencies offered since the last flush, for the reservoir sample. */
  latenciesSeen: number;
}

export interface ChangedEvent {
  readonly version: number;
  readonly previousVersion: number | null;
  /** Keys of the flags whose definition differs between the two versions. */
  readonly flagsChanged: readonly string[];
}

export interface StaleEvent {
  readonly reason: string;
  /** The version still being served. */
  readonly version: number | null;
}

export interface ReadyEvent {
  readonly version: number;
  /** True when the client had been stale and is back in touch with the service. */
  readonly recovered: boolean;
}

export interface FlagsClientEvents extends Record<string, unknown> {
  ready: ReadyEvent;
  changed: ChangedEvent;
  stale: StaleEvent;
  error: Error;
}

export type ClientStatus = 'NOT_READY' | 'READY' | 'STALE' | 'ERROR' | 'CLOSED';

/**
 * How a stream attempt ended: `dropped` after it carried data, `silent` when it opened but sent
 * not a byte (not even a ping: a buffering proxy, a half-dead connection), `refused` when it
 * could not be opened, `closed` by close().
 */
type StreamOutcome = 'dropped' | 'silent' | 'refused' | 'closed';

const DEFAULTS = {
  project: 'default',
  pollIntervalMs: 5_000,
  reconnectDelayMs: 200,
  maxReconnectDelayMs: 30_000,
  streamIdleTimeoutMs: 45_000,
  requestTimeoutMs: 10_000,
  initialTimeoutMs: 10_000,
  outcomesFlushIntervalMs: 5_000,
  maxLatencySamples: 500,
};

/** A stream that stayed open this long was healthy: the next drop reconnects at the first delay. */
const HEALTHY_STREAM_MS = 10_000;

/**
 * Feature flags evaluated in process from an in-memory ruleset. It fetches the ruleset once,
 * then follows the service's server-sent events stream, resuming from the last version it has
 * (Last-Event-ID) after a disconnect, with exponential backoff. While the stream cannot be
 * opened it polls with ETags. When the service is down it keeps serving the last ruleset it
 * knew and says so: `isStale()`, the 'stale' event and `stale: true` on every answer.
 *
 * No evaluation method throws: an unknown flag, a bad context or a client that is not ready yet
 * gives the caller's default with an error code.
 */
export class FlagsClient extends Emitter<FlagsClientEvents> {
  readonly environment: string;
  private readonly options: Required<Omit<FlagsClientOptions, 'token' | 'bootstrap' | 'fetch'>>;
  /** Outcomes reported with track(), by flag key and cohort, until the next flush. */
  private tallies = new Map<string, { on?: CohortTally; off?: CohortTally }>();
  private flushTimer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private readonly fetchImpl: typeof fetch;
  private ruleset: Ruleset | undefined;
  /** The service has sent (or confirmed, with a 304) the version being served. */
  private hasServerRuleset = false;
  /** The service's current ruleset was refused: only a valid one ends the staleness. */
  private refusedCurrent = false;
  private stale = false;
  private lastError: Error | undefined;
  private closed = false;
  private running: Promise<void> | undefined;
  /** Pending waitForReady() calls: called with nothing once ready, with an error on close(). */
  private readyWaiters: Array<(error?: Error) => void> = [];
  private controller: AbortController | undefined;
  private wakeUp: (() => void) | undefined;

  constructor(private readonly config: FlagsClientOptions) {
    super();
    this.environment = config.environment;
    this.options = {
      url: config.url.replace(/\/+$/, ''),
      environment: config.environment,
      project: config.project ?? DEFAULTS.project,
      streaming: config.streaming ?? true,
      pollIntervalMs: config.pollIntervalMs ?? DEFAULTS.pollIntervalMs,
      reconnectDelayMs: config.reconnectDelayMs ?? DEFAULTS.reconnectDelayMs,
      maxReconnectDelayMs: config.maxReconnectDelayMs ?? DEFAULTS.maxReconnectDelayMs,
      streamIdleTimeoutMs: config.streamIdleTimeoutMs ?? DEFAULTS.streamIdleTimeoutMs,
      requestTimeoutMs: config.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs,
      initialTimeoutMs: config.initialTimeoutMs ?? DEFAULTS.initialTimeoutMs,
      outcomesFlushIntervalMs: config.outcomesFlushIntervalMs ?? DEFAULTS.outcomesFlushIntervalMs,
      maxLatencySamples: config.maxLatencySamples ?? DEFAULTS.maxLatencySamples,
    };
    this.fetchImpl = config.fetch ?? fetch;
    if (config.bootstrap !== undefined) {
      const built = buildRuleset(config.bootstrap);
      if (!built.ok) {
        throw new Error(
          `invalid bootstrap ruleset: ${built.errors.map(formatValidationError).join('; ')}`,
        );
      }
      this.ruleset = built.ruleset;
      this.stale = true; // not confirmed by the service yet
    }
  }

  // ---- lifecycle ------------------------------------------------------------------------------

  /**
   * Starts following the service; resolves once a ruleset is loaded (at once with a bootstrap
   * ruleset). Rejects after `initialTimeoutMs` without one, but keeps trying in the background:
   * listen for 'ready'. Calling it again returns the same wait.
   */
  async start(): Promise<void> {
    if (this.closed) throw new Error('the client is closed');
    this.running ??= this.run().catch((error: unknown) => this.fail(asError(error)));
    if (this.ruleset) return;
    await this.waitForReady(this.options.initialTimeoutMs);
  }

  /** Resolves when a ruleset is loaded; rejects after `timeoutMs` with the last error seen. */
  waitForReady(timeoutMs = this.options.initialTimeoutMs): Promise<void> {
    if (this.ruleset) return Promise.resolve();
    if (this.closed) return Promise.reject(new Error('the client is closed'));
    return new Promise((resolveReady, reject) => {
      const timer = setTimeout(() => {
        this.readyWaiters = this.readyWaiters.filter((waiter) => waiter !== done);
        const cause = this.lastError ? `: ${this.lastError.message}` : '';
        reject(new Error(`no ruleset from ${this.options.url} within ${timeoutMs} ms${cause}`));
      }, timeoutMs);
      const done = (error?: Error) => {
        clearTimeout(timer);
        if (error) reject(error);
        else resolveReady();
      };
      this.readyWaiters.push(done);
    });
  }

  /** Stops following the service. Evaluations keep answering from the last ruleset, as stale. */
  async close(): Promise<void> {
    if (this.closed) return;
    clearInterval(this.flushTimer);
    // What was tracked still reaches the service (while the connection can still be used).
    await this.flushOutcomes();
    this.closed = true;
    this.stale = true;
    const waiters = this.readyWaiters;
    this.readyWaiters = [];
    for (const waiter of waiters) waiter(new Error('the client was closed before a ruleset came'));
    this.controller?.abort();
    this.wakeUp?.();
    await this.running;
  }

  // ---- state ----------------------------------------------------------------------------------

  /** True once a ruleset is loaded (from the service or a bootstrap). */
  isReady(): boolean {
    return this.ruleset !== undefined;
  }

  /**
   * True while the last known ruleset is served without the service's confirmation: it cannot
   * be reached, it sent a ruleset that does not validate, the client is closed, or a bootstrap
   * ruleset has not been confirmed yet.
   */
  isStale(): boolean {
    return this.stale;
  }

  get status(): ClientStatus {
    if (this.closed) return 'CLOSED';
    if (!this.ruleset) return this.lastError ? 'ERROR' : 'NOT_READY';
    return this.stale ? 'STALE' : 'READY';
  }

  /** The version of the ruleset being served, or null before the first one. */
  get version(): number | null {
    return this.ruleset?.version ?? null;
  }

  /** The definition being served (for saving to disk and using as a bootstrap later). */
  get definition(): RulesetDefinition | undefined {
    return this.ruleset?.definition;
  }

  // ---- evaluation -----------------------------------------------------------------------------

  /**
   * The hot path: is the flag on for this context? The default (false unless given) when the
   * flag is unknown, the context is bad or no ruleset is loaded yet.
   */
  isEnabled(flagKey: string, context: unknown, defaultValue = false): boolean {
    const ruleset = this.ruleset;
    if (!ruleset) return defaultValue;
    const checked = checkContext(context);
    if (typeof checked === 'string') return defaultValue;
    try {
      const result = evaluate(ruleset, flagKey, this.environment, checked);
      return result.reason === 'FLAG_NOT_FOUND' || result.reason === 'ERROR'
        ? defaultValue
        : result.enabled;
    } catch {
      return defaultValue;
    }
  }

  getBooleanDetails(flagKey: string, defaultValue: boolean, context: unknown) {
    return this.details(flagKey, 'boolean', defaultValue, context);
  }

  getStringDetails(flagKey: string, defaultValue: string, context: unknown) {
    return this.details(flagKey, 'string', defaultValue, context);
  }

  getNumberDetails(flagKey: string, defaultValue: number, context: unknown) {
    return this.details(flagKey, 'number', defaultValue, context);
  }

  getObjectDetails<T extends JsonValue>(flagKey: string, defaultValue: T, context: unknown) {
    return this.details(flagKey, 'object', defaultValue, context) as FlagDetails<T>;
  }

  /** Like the typed methods, for another environment than the client's. */
  details<T>(
    flagKey: string,
    type: FlagValueType,
    defaultValue: T,
    context: unknown,
    environment = this.environment,
  ): FlagDetails<T> {
    return resolve({
      ruleset: this.ruleset,
      stale: this.stale,
      flagKey,
      environment,
      context,
      type,
      defaultValue,
    });
  }

  // ---- outcomes (guarded rollouts) --------------------------------------------------------------

  /**
   * Reports how the work done under a flag went, for guarded rollouts: the client evaluates the
   * flag for the context again to know its cohort (on or off), counts requests and errors per
   * cohort, keeps a bounded sample of latencies, and sends the counts to the service every
   * `outcomesFlushIntervalMs`. Never throws; an unknown flag, a bad context or an outcome without
   * a boolean `ok` is not counted.
   */
  track(flagKey: string, outcome: Outcome, context: unknown): void {
    try {
      if (this.closed || !this.ruleset || typeof outcome?.ok !== 'boolean') return;
      const checked = checkContext(context);
      if (typeof checked === 'string') return;
      const result = evaluate(this.ruleset, flagKey, this.environment, checked);
      if (result.reason === 'FLAG_NOT_FOUND' || result.reason === 'ERROR') return;
      const cohort = result.enabled ? 'on' : 'off';
      const tallies = this.tallies.get(flagKey) ?? {};
      this.tallies.set(flagKey, tallies);
      const tally = (tallies[cohort] ??= {
        requests: 0,
        errors: 0,
        latencies: [],
        latenciesSeen: 0,
      });
      tally.requests++;
      if (!outcome.ok) tally.errors++;
      const latency = outcome.latencyMs;
      if (typeof latency === 'number' && Number.isFinite(latency) && latency >= 0) {
        this.sampleLatency(tally, latency);
      }
      this.scheduleFlush();
    } catch {
      // Reporting must never break the caller's request.
    }
  }

  /** Sends what track() counted so far; resolves when done (failures are reported as 'error'). */
  flushOutcomes(): Promise<void> {
    const previous = this.flushing ?? Promise.resolve();
    const next = previous.then(() => this.sendOutcomes());
    this.flushing = next;
    return next;
  }

  /** Reservoir sampling: every latency since the last flush has the same chance to be kept. */
  private sampleLatency(tally: CohortTally, latency: number): void {
    tally.latenciesSeen++;
    const max = this.options.maxLatencySamples;
    if (tally.latencies.length < max) {
      tally.latencies.push(latency);
      return;
    }
    const slot = Math.floor(Math.random() * tally.latenciesSeen);
    if (slot < max) tally.latencies[slot] = latency;
  }

  private scheduleFlush(): void {
    if (this.flushTimer) return;
    this.flushTimer = setInterval(
      () => void this.flushOutcomes(),
      this.options.outcomesFlushIntervalMs,
    );
    this.flushTimer.unref();
  }

  private async sendOutcomes(): Promise<void> {
    const tallies = this.tallies;
    if (tallies.size === 0) return;
    this.tallies = new Map();
    for (const [flagKey, cohorts] of tallies) {
      const body = {
        environment: this.environment,
        cohorts: (['on', 'off'] as const).flatMap((cohort) => {
          const tally = cohorts[cohort];
          if (!tally || tally.requests === 0) return [];
          return [
            {
              cohort,
              requests: tally.requests,
              errors: tally.errors,
              ...(tally.latencies.length > 0 ? { latenciesMs: tally.latencies } : {}),
            },
          ];
        }),
      };
      if (body.cohorts.length === 0) continue;
      try {
        const response = await this.fetchImpl(
          this.endpoint(`/flags/${encodeURIComponent(flagKey)}/outcomes`),
          {
            method: 'POST',
            headers: { ...this.headers('application/json'), 'content-type': 'application/json' },
            body: JSON.stringify(body),
            signal: AbortSignal.timeout(this.options.requestTimeoutMs),
          },
        );
        await response.body?.cancel();
        if (response.status >= 300) {
          throw new Error(`POST /flags/${flagKey}/outcomes answered ${response.status}`);
        }
      } catch (error) {
        // Dropped rather than resent: a report the service may have stored must not count twice.
        this.emit('error', new Error(`outcomes of "${flagKey}" not sent: ${messageOf(error)}`));
      }
    }
  }

  // ---- following the service ------------------------------------------------------------------

  private async run(): Promise<void> {
    if (!this.options.streaming) {
      while (!this.closed) {
        await this.poll();
        await this.sleep(this.options.pollIntervalMs);
      }
      return;
    }
    let failures = 0;
    while (!this.closed) {
      if (!this.hasServerRuleset) {
        // The initial fetch; the stream then only has to tell what changed after it.
        if (!(await this.poll())) {
          failures++;
          await this.sleep(this.backoff(failures));
          continue;
        }
      }
      const openedAt = Date.now();
      const outcome = await this.stream();
      if (outcome === 'closed' || this.closed) return;
      if (outcome === 'dropped') {
        // Resume quickly from the version we have; back off only if drops come fast.
        failures = Date.now() - openedAt >= HEALTHY_STREAM_MS ? 1 : failures + 1;
        await this.sleep(this.backoff(failures));
        continue;
      }
      // The stream could not be opened, or carried nothing: a connection that looks open must not
      // stop changes from arriving, so poll with ETags until it is time to try again.
      failures++;
      await this.pollUntil(Date.now() + this.backoff(failures));
    }
  }

  /** Exponential backoff with ±20% jitter, so a fleet of SDKs does not reconnect in lockstep. */
  private backoff(failures: number): number {
    const exponent = Math.min(Math.max(failures - 1, 0), 20);
    const delay = Math.min(
      this.options.maxReconnectDelayMs,
      this.options.reconnectDelayMs * 2 ** exponent,
    );
    return Math.round(delay * (0.8 + Math.random() * 0.4));
  }

  private async pollUntil(deadline: number): Promise<void> {
    while (!this.closed) {
      await this.poll();
      const left = deadline - Date.now();
      if (left <= 0) return;
      await this.sleep(Math.min(left, this.options.pollIntervalMs));
      if (Date.now() >= deadline) return;
    }
  }

  /** One GET of the ruleset with If-None-Match; true when the service answered. */
  private async poll(): Promise<boolean> {
    const controller = new AbortController();
    this.controller = controller;
    const timer = setTimeout(() => controller.abort(), this.options.requestTimeoutMs);
    try {
      const headers = this.headers('application/json');
      if (this.ruleset) headers['if-none-match'] = `"${this.ruleset.version}"`;
      const response = await this.fetchImpl(this.endpoint('/flags/ruleset'), {
        headers,
        signal: controller.signal,
      });
      if (response.status === 304) {
        await response.body?.cancel();
        this.hasServerRuleset = this.ruleset !== undefined;
        this.refusedCurrent = false; // our version is the current one
        this.confirmed();
        return true;
      }
      if (response.status !== 200) {
        await response.body?.cancel();
        throw new Error(`GET /flags/ruleset answered ${response.status}`);
      }
      const body: unknown = await response.json();
      this.apply(body, 'fetch');
      return true;
    } catch (error) {
      if (this.closed) return false;
      this.unreachable(`the ruleset could not be fetched: ${messageOf(error)}`, asError(error));
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Follows the stream until it ends; returns how it ended. */
  private async stream(): Promise<StreamOutcome> {
    const controller = new AbortController();
    this.controller = controller;
    let idle: NodeJS.Timeout | undefined;
    const connectTimer = setTimeout(() => controller.abort(), this.options.requestTimeoutMs);
    const resetIdle = () => {
      clearTimeout(idle);
      idle = setTimeout(() => controller.abort(), this.options.streamIdleTimeoutMs);
    };
    let opened = false;
    let received = false;
    try {
      const headers = this.headers('text/event-stream');
      headers['cache-control'] = 'no-cache';
      if (this.ruleset) headers['last-event-id'] = String(this.ruleset.version);
      const response = await this.fetchImpl(this.endpoint('/flags/stream'), {
        headers,
        signal: controller.signal,
      });
      clearTimeout(connectTimer);
      const type = response.headers.get('content-type') ?? '';
      if (response.status !== 200 || !type.startsWith('text/event-stream') || !response.body) {
        await response.body?.cancel();
        throw new Error(`GET /flags/stream answered ${response.status} ${type}`.trim());
      }
      opened = true;
      this.confirmed();
      resetIdle();
      const parser = new SseParser({
        onEvent: (event) => {
          if (event.event === 'ruleset') this.applyText(event.data);
        },
      });
      const decoder = new TextDecoder();
      const reader = response.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        received = true;
        resetIdle();
        parser.push(decoder.decode(value, { stream: true }));
      }
      if (this.closed) return 'closed';
      return received ? 'dropped' : this.silent();
    } catch (error) {
      if (this.closed) return 'closed';
      if (opened) return received ? 'dropped' : this.silent();
      this.reportError(asError(error));
      return 'refused';
    } finally {
      clearTimeout(connectTimer);
      clearTimeout(idle);
      controller.abort(); // releases the connection whatever happened
    }
  }

  private silent(): StreamOutcome {
    this.reportError(new Error('the stream ended without sending anything, not even a ping'));
    return 'silent';
  }

  private applyText(text: string): void {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (error) {
      this.outOfStep(`the stream sent a ruleset that is not JSON: ${messageOf(error)}`);
      return;
    }
    this.apply(body, 'stream');
  }

  /** Swaps in a new ruleset; a ruleset that does not validate is refused and the old one kept. */
  /**
   * Swaps in a new ruleset. One that does not validate is refused: the current one is kept and
   * the client is stale (out of step with the service) until a valid one arrives.
   */
  private apply(body: unknown, source: 'fetch' | 'stream'): void {
    const version = (body as { version?: unknown } | null)?.version;
    if (this.ruleset && version === this.ruleset.version) {
      this.hasServerRuleset = true; // a bootstrap ruleset of the same version is confirmed
      this.refusedCurrent = false;
      this.confirmed();
      return;
    }
    const built = buildRuleset(body);
    if (!built.ok) {
      const why = built.errors.slice(0, 5).map(formatValidationError).join('; ');
      this.outOfStep(`the ${source} sent an invalid ruleset, keeping the current one: ${why}`);
      return;
    }
    const previous = this.ruleset;
    this.ruleset = built.ruleset;
    this.hasServerRuleset = true;
    this.refusedCurrent = false;
    if (!previous) {
      this.becomeReady(false);
    } else {
      this.emit('changed', {
        version: built.ruleset.version,
        previousVersion: previous.version,
        flagsChanged: changedFlags(previous.definition, built.ruleset.definition),
      });
    }
    this.confirmed();
  }

  /** The service answered: no longer stale. */
  private confirmed(): void {
    this.lastError = undefined;
    if (this.stale && this.hasServerRuleset && !this.refusedCurrent && !this.closed) {
      this.stale = false;
      this.becomeReady(true);
    }
  }

  private becomeReady(recovered: boolean): void {
    const waiters = this.readyWaiters;
    this.readyWaiters = [];
    for (const waiter of waiters) waiter();
    this.emit('ready', { version: this.ruleset!.version, recovered });
  }

  /** The service could not be reached at all: serve the last ruleset and say it is stale. */
  private unreachable(reason: string, error: Error): void {
    this.reportError(error);
    this.becomeStale(reason);
  }

  /** The service answered with something unusable: keep serving what we have, as stale. */
  private outOfStep(reason: string): void {
    this.refusedCurrent = true;
    this.reportError(new Error(reason));
    this.becomeStale(reason);
  }

  private becomeStale(reason: string): void {
    if (!this.ruleset || this.stale) return;
    this.stale = true;
    this.emit('stale', { reason, version: this.ruleset.version });
  }

  private reportError(error: Error): void {
    this.lastError = error;
    this.emit('error', error);
  }

  private fail(error: Error): void {
    this.reportError(error);
  }

  private headers(accept: string): Record<string, string> {
    const headers: Record<string, string> = { accept };
    if (this.config.token) headers['authorization'] = `Bearer ${this.config.token}`;
    return headers;
  }

  private endpoint(path: string): string {
    return `${this.options.url}${path}?project=${encodeURIComponent(this.options.project)}`;
  }

  /** A wait that close() cuts short. */
  private sleep(milliseconds: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolveSleep) => {
      const timer = setTimeout(finish, milliseconds);
      function finish() {
        clearTimeout(timer);
        resolveSleep();
      }
      this.wakeUp = finish;
    });
  }
}

/** Flags added, removed or changed, including those whose rules use a changed segment. */
function changedFlags(before: RulesetDefinition, after: RulesetDefinition): string[] {
  const changedSegments = changedKeys(before.segments ?? [], after.segments ?? []);
  const changed = new Set(changedKeys(before.flags, after.flags));
  if (changedSegments.size > 0) {
    for (const flag of after.flags) {
      const rules = Object.values(flag.environments).flatMap(
        (environment) => environment.rules ?? [],
      );
      if (rules.some((rule) => rule.segments?.some((segment) => changedSegments.has(segment)))) {
        changed.add(flag.key);
      }
    }
  }
  return [...changed].sort();
}

function changedKeys(before: readonly { key: string }[], after: readonly { key: string }[]) {
  const old = new Map(before.map((item) => [item.key, JSON.stringify(item)]));
  const changed = new Set<string>();
  for (const item of after) {
    if (old.get(item.key) !== JSON.stringify(item)) changed.add(item.key);
    old.delete(item.key);
  }
  for (const key of old.keys()) changed.add(key);
  return changed;
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

function messageOf(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  const base = error instanceof Error ? error.message : String(error);
  return cause?.code ? `${base} (${cause.code})` : base;
}
