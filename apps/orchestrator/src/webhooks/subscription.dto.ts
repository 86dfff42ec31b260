import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsInt,
  IsISO8601,
  IsString,
  Length,
  Matches,
  Max,
  Min,
} from 'class-validator';
import { OptionalField } from '@rollgate/platform';
import {
  SERVICE_NAME_PATTERN,
  TOPICS,
  WEBHOOK_FORMATS,
  type WebhookFormat,
} from '@rollgate/contracts';
import type { AttemptRow, DeliveryRow, DeliveryStatus, SubscriptionRow } from './webhook-store';

export class SubscriptionCreateDto {
  @ApiProperty({
    example: 'https://ci.example.com/hooks/rollgate',
    description: 'http(s) URL the deliveries are POSTed to; no user:password part',
  })
  @IsString()
  @Length(1, 2000)
  url!: string;

  @ApiProperty({
    type: [String],
    example: ['Release*', 'FleetDriftDetected'],
    description:
      'Event-type globs (`*` any run, `?` one character); each must match a published event type',
  })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(50)
  @IsString({ each: true })
  types!: string[];

  @ApiPropertyOptional({ example: 'checkout', description: 'Only events of this service' })
  @OptionalField()
  @IsString()
  @Matches(new RegExp(SERVICE_NAME_PATTERN), { message: 'must be a service name' })
  service?: string;

  @ApiProperty({
    minLength: 16,
    maxLength: 200,
    description:
      'HMAC-SHA256 key of the rollgate-signature header. Never returned and never written to the event log.',
  })
  @IsString()
  @Length(16, 200)
  secret!: string;

  @ApiPropertyOptional({
    enum: WEBHOOK_FORMATS,
    default: 'binary',
    description:
      'binary: CloudEvents HTTP binary mode (ce-* headers, the envelope as JSON body); structured: application/cloudevents+json; slack: {text, blocks} for release milestones only',
  })
  @OptionalField()
  @IsIn(WEBHOOK_FORMATS)
  format?: WebhookFormat;

  @ApiPropertyOptional({ minimum: 100, maximum: 30_000, default: 10_000 })
  @OptionalField()
  @IsInt()
  @Min(100)
  @Max(30_000)
  timeoutMs?: number;

  @ApiPropertyOptional({
    minimum: 1,
    maximum: 100,
    default: 20,
    description: 'Attempts before a delivery moves to the dead letters',
  })
  @OptionalField()
  @IsInt()
  @Min(1)
  @Max(100)
  maxAttempts?: number;
}

const TOPIC_NAMES = Object.values(TOPICS).map((topic) => topic.name);

export class SubscriptionReplayDto {
  @ApiPropertyOptional({
    minimum: 0,
    description: 'Re-deliver from this offset of every partition (exclusive with fromTime)',
  })
  @OptionalField()
  @IsInt()
  @Min(0)
  fromOffset?: number;

  @ApiPropertyOptional({
    example: '2026-12-01T00:00:00.000Z',
    description: 'Re-deliver events that occurred at or after this instant',
  })
  @OptionalField()
  @IsISO8601({ strict: true })
  fromTime?: string;

  @ApiPropertyOptional({ enum: TOPIC_NAMES, description: 'Only this topic (default: every topic)' })
  @OptionalField()
  @IsIn(TOPIC_NAMES)
  topic?: string;
}

export class SubscriptionRedeliverDto {
  @ApiPropertyOptional({
    type: [Number],
    description: 'Dead letters to send again (default: every dead letter of the subscription)',
  })
  @OptionalField()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(10_000)
  @IsInt({ each: true })
  @Min(1, { each: true })
  deliveryIds?: number[];
}

export class SubscriptionAcceptedDto {
  @ApiProperty()
  subscriptionId!: string;

  @ApiProperty({ type: [String] })
  eventIds!: string[];
}

export class SubscriptionCountsDto {
  @ApiProperty() pending!: number;
  @ApiProperty() delivered!: number;
  @ApiProperty() dead!: number;
  @ApiProperty() cancelled!: number;
}

export class SubscriptionResponseDto {
  @ApiProperty() id!: string;
  @ApiProperty() url!: string;
  @ApiProperty({ type: [String] }) types!: string[];
  @ApiProperty({ type: String, nullable: true }) service!: string | null;
  @ApiProperty({ enum: WEBHOOK_FORMATS }) format!: WebhookFormat;
  @ApiProperty({
    description: '`sha256:` + 16 hex of the secret’s SHA-256; the secret is never shown',
  })
  secretFingerprint!: string;
  @ApiProperty() timeoutMs!: number;
  @ApiProperty() maxAttempts!: number;
  @ApiProperty() createdAt!: string;
  @ApiProperty() createdBy!: string;
  @ApiPropertyOptional({ type: SubscriptionCountsDto }) deliveries?: SubscriptionCountsDto;

  static from(
    row: SubscriptionRow,
    counts?: Record<DeliveryStatus, number>,
  ): SubscriptionResponseDto {
    return {
      id: row.id,
      url: row.url,
      types: [...row.types],
      service: row.service,
      format: row.format,
      secretFingerprint: row.secretFingerprint,
      timeoutMs: row.timeoutMs,
      maxAttempts: row.maxAttempts,
      createdAt: row.createdAt,
      createdBy: row.createdBy,
      ...(counts ? { deliveries: counts } : {}),
    };
  }
}

export class DeliveryResponseDto {
  @ApiProperty() id!: number;
  @ApiProperty({ description: 'The CloudEvent id (the event id): the same on every attempt' })
  eventId!: string;
  @ApiProperty() eventType!: string;
  @ApiProperty() key!: string;
  @ApiProperty({ enum: ['pending', 'delivered', 'dead', 'cancelled'] }) status!: DeliveryStatus;
  @ApiProperty({ enum: ['live', 'replay'] }) cause!: string;
  @ApiProperty() attempts!: number;
  @ApiProperty() enqueuedAt!: string;
  @ApiProperty({ type: String, nullable: true }) finishedAt!: string | null;
  @ApiProperty({ type: String, nullable: true }) lastError!: string | null;

  static from(row: DeliveryRow): DeliveryResponseDto {
    return {
      id: row.id,
      eventId: row.eventId,
      eventType: row.eventType,
      key: row.orderingKey,
      status: row.status,
      cause: row.cause,
      attempts: row.attempts,
      enqueuedAt: row.enqueuedAt,
      finishedAt: row.finishedAt,
      lastError: row.lastError,
    };
  }
}

export class AttemptResponseDto {
  @ApiProperty() deliveryId!: number;
  @ApiProperty() eventId!: string;
  @ApiProperty() attempt!: number;
  @ApiProperty() startedAt!: string;
  @ApiProperty() durationMs!: number;
  @ApiProperty({ type: Number, nullable: true }) statusCode!: number | null;
  @ApiProperty({ enum: ['delivered', 'failed'] }) outcome!: string;
  @ApiProperty({ type: String, nullable: true }) error!: string | null;

  static from(row: AttemptRow): AttemptResponseDto {
    return {
      deliveryId: row.deliveryId,
      eventId: row.eventId,
      attempt: row.attempt,
      startedAt: row.startedAt,
      durationMs: row.durationMs,
      statusCode: row.statusCode,
      outcome: row.outcome,
      error: row.error,
    };
  }
}

export class ReplayAcceptedDto {
  @ApiProperty({ description: 'Deliveries queued by the replay' }) enqueued!: number;
}

export class RedeliverAcceptedDto {
  @ApiProperty({ description: 'Dead letters queued again' }) redelivered!: number;
}
