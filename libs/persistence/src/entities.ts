import { Column, Entity, Index, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';

/** The write side: every event of every stream this service owns, in stream order. */
@Entity({ name: 'event_store' })
@Index('event_store_event_id', ['eventId'], { unique: true })
export class StoredEventEntity {
  @PrimaryColumn({ name: 'stream_id', type: 'varchar', length: 200 })
  streamId!: string;

  /** 1-based; the primary key makes two writers of the same version collide. */
  @PrimaryColumn({ type: 'integer' })
  sequence!: number;

  @Column({ name: 'event_id', type: 'varchar', length: 36 })
  eventId!: string;

  @Column({ type: 'varchar', length: 100 })
  type!: string;

  @Column({ type: 'text' })
  envelope!: string;
}

/** Events committed with their stream but not yet on the log; the relay drains it in order. */
@Entity({ name: 'outbox' })
export class OutboxEntity {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number;

  @Column({ type: 'text' })
  envelope!: string;

  /** W3C trace headers of the command that wrote it, so the trace continues through the log. */
  @Column({ name: 'trace_context', type: 'text', nullable: true })
  traceContext!: string | null;
}

/** Next offset per (projection, topic, partition), written in the projection's transaction. */
@Entity({ name: 'projection_checkpoints' })
export class ProjectionCheckpointEntity {
  @PrimaryColumn({ type: 'varchar', length: 100 })
  projection!: string;

  @PrimaryColumn({ type: 'varchar', length: 200 })
  topic!: string;

  @PrimaryColumn({ type: 'integer' })
  partition!: number;

  @Column({
    name: 'next_offset',
    type: 'bigint',
    transformer: { to: (v: number) => v, from: (v: string | number) => Number(v) },
  })
  nextOffset!: number;
}

export const PLATFORM_ENTITIES = [StoredEventEntity, OutboxEntity, ProjectionCheckpointEntity];
