import { defineEvent, SERVICE_NAME_PATTERN } from '../definition';
import { TOPICS } from '../topics';

/** How a webhook subscription's deliveries are written on the wire. */
export type WebhookFormat = 'binary' | 'structured' | 'slack';
export const WEBHOOK_FORMATS: readonly WebhookFormat[] = ['binary', 'structured', 'slack'];

/** Event-type glob: letters, digits, `.`, `_`, `-`, with `*` (any run) and `?` (one character). */
export const EVENT_TYPE_GLOB_PATTERN = '^[A-Za-z0-9._*?-]{1,100}$';

/**
 * A tool outside Kafka subscribed to events over HTTP. The URL and the signing secret are not
 * here: both can be credentials (a Slack webhook URL is one), so they stay in the orchestrator's
 * own database; the event names the target's origin and the secret's fingerprint.
 */
export interface SubscriptionCreatedV1 {
  subscriptionId: string;
  /** Scheme, host and port of the URL (no path, no query). */
  origin: string;
  /** Event-type globs; an event is delivered when its type matches one. */
  types: string[];
  /** Only events of this service, when set. */
  service?: string;
  format: WebhookFormat;
  /** `sha256:` and the first 16 hex digits of the secret's SHA-256: tells secrets apart, reveals none. */
  secretFingerprint: string;
  timeoutMs: number;
  maxAttempts: number;
}

export const SubscriptionCreatedV1 = defineEvent<SubscriptionCreatedV1, 'SubscriptionCreated'>({
  type: 'SubscriptionCreated',
  version: 1,
  topic: TOPICS.subscriptions,
  description:
    'A webhook subscription was created: matching events are delivered to its URL as signed CloudEvents (or Slack messages), in order per key.',
  schema: {
    type: 'object',
    properties: {
      subscriptionId: { type: 'string', minLength: 1, maxLength: 64 },
      origin: { type: 'string', pattern: '^https?://[^/?#]+$', maxLength: 300 },
      types: {
        type: 'array',
        items: { type: 'string', pattern: EVENT_TYPE_GLOB_PATTERN },
        minItems: 1,
        maxItems: 50,
      },
      service: { type: 'string', pattern: SERVICE_NAME_PATTERN, nullable: true },
      format: { type: 'string', enum: ['binary', 'structured', 'slack'] },
      secretFingerprint: { type: 'string', pattern: '^sha256:[a-f0-9]{16}$' },
      timeoutMs: { type: 'integer', minimum: 100, maximum: 30_000 },
      maxAttempts: { type: 'integer', minimum: 1, maximum: 100 },
    },
    required: [
      'subscriptionId',
      'origin',
      'types',
      'format',
      'secretFingerprint',
      'timeoutMs',
      'maxAttempts',
    ],
    additionalProperties: false,
  },
});

/** A webhook subscription was deleted: nothing more is delivered to it. */
export interface SubscriptionDeletedV1 {
  subscriptionId: string;
  /** Deliveries still pending when it was deleted; they are cancelled. */
  cancelledDeliveries: number;
}

export const SubscriptionDeletedV1 = defineEvent<SubscriptionDeletedV1, 'SubscriptionDeleted'>({
  type: 'SubscriptionDeleted',
  version: 1,
  topic: TOPICS.subscriptions,
  description: 'A webhook subscription was deleted; its pending deliveries are cancelled.',
  schema: {
    type: 'object',
    properties: {
      subscriptionId: { type: 'string', minLength: 1, maxLength: 64 },
      cancelledDeliveries: { type: 'integer', minimum: 0 },
    },
    required: ['subscriptionId', 'cancelledDeliveries'],
    additionalProperties: false,
  },
});
