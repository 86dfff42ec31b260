import {
  CLOUDEVENT_TYPE_PREFIX,
  CLOUDEVENTS_SPEC_VERSION,
  cloudEventDataSchema,
  cloudEventSource,
  type EventEnvelope,
  type WebhookFormat,
} from '@rollgate/contracts';

/** What is sent for one delivery, before signing: headers and the exact body bytes. */
export interface WebhookRequest {
  headers: Record<string, string>;
  body: string;
}

/**
 * CloudEvents context attributes of an event, the same ones its Kafka record carries: the data
 * is the whole Rollgate envelope, so a receiver sees exactly what a Kafka consumer sees.
 */
function cloudEventAttributes(event: EventEnvelope): Record<string, string> {
  const attributes: Record<string, string> = {
    specversion: CLOUDEVENTS_SPEC_VERSION,
    id: event.id,
    source: cloudEventSource(event.key),
    type: CLOUDEVENT_TYPE_PREFIX + event.type,
    time: event.occurredAt,
    subject: event.correlationId,
    dataschema: cloudEventDataSchema(event.type, event.version),
    correlationid: event.correlationId,
  };
  if (event.causationId !== null) attributes['causationid'] = event.causationId;
  return attributes;
}

/** HTTP header values are ASCII; CloudEvents' HTTP binding percent-encodes anything else. */
const headerValue = (value: string) =>
  value.replace(/[^\x21-\x7e ]|%/g, (c) => encodeURIComponent(c));

/** The request of a delivery, or null for an event the format does not carry (slack: milestones). */
export function webhookRequest(event: EventEnvelope, format: WebhookFormat): WebhookRequest | null {
  if (format === 'slack') {
    const message = slackMessage(event);
    return message === null
      ? null
      : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(message) };
  }
  const attributes = cloudEventAttributes(event);
  if (format === 'structured') {
    return {
      headers: { 'content-type': 'application/cloudevents+json; charset=utf-8' },
      body: JSON.stringify({ ...attributes, datacontenttype: 'application/json', data: event }),
    };
  }
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  for (const [name, value] of Object.entries(attributes))
    headers[`ce-${name}`] = headerValue(value);
  return { headers, body: JSON.stringify(event) };
}

export interface SlackMessage {
  text: string;
  blocks: unknown[];
}

/** Slack's mrkdwn gives `&`, `<` and `>` a meaning: user text is escaped. */
const escapeSlack = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A Slack incoming-webhook message for a release milestone; null for any other event. */
export function slackMessage(event: EventEnvelope): SlackMessage | null {
  const data = event.data as Record<string, unknown>;
  const service = `*${escapeSlack(String(data['service'] ?? event.key))}*`;
  const reason = typeof data['reason'] === 'string' ? `: ${escapeSlack(data['reason'])}` : '';
  let text: string;
  switch (event.type) {
    case 'ReleaseRequested': {
      const artifact = data['artifact'] as { name?: string; digest?: string } | undefined;
      const version = String(data['version'] ?? artifact?.digest?.slice(0, 19) ?? '');
      text = `:rocket: Release of ${service} ${escapeSlack(version)} started (${escapeSlack(String(data['strategy']))}) by ${escapeSlack(event.actor)}`;
      break;
    }
    case 'ReleaseSucceeded':
      text = `:white_check_mark: Release of ${service} succeeded${reason}`;
      break;
    case 'ReleaseRolledBack':
      text = `:rewind: Release of ${service} rolled back${reason}`;
      break;
    case 'FleetDriftDetected':
      text = `:warning: Drift on ${service}: instance ${escapeSlack(String(data['instanceId']))} runs ${escapeSlack(String(data['reportedDigest'] ?? 'nothing'))} instead of ${escapeSlack(String(data['intendedDigest']))}`;
      break;
    default:
      return null;
  }
  const release = typeof data['releaseId'] === 'string' ? `release ${data['releaseId']} · ` : '';
  return {
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text } },
      {
        type: 'context',
        elements: [
          {
            type: 'mrkdwn',
            text: escapeSlack(`${release}${event.type} · ${event.occurredAt} · event ${event.id}`),
          },
        ],
      },
    ],
  };
}
