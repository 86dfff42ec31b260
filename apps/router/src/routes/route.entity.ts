import { Column, Entity, PrimaryColumn } from 'typeorm';

/** The last route table a data plane confirmed per service: re-applied when the router restarts. */
@Entity({ name: 'routes' })
export class RouteEntity {
  @PrimaryColumn({ type: 'varchar', length: 100 })
  service!: string;

  /** JSON of the RouteTable (weights, backends, stickiness). */
  @Column({ type: 'text' })
  route!: string;

  @Column({ name: 'data_plane', type: 'varchar', length: 40 })
  dataPlane!: string;

  @Column({ name: 'request_id', type: 'varchar', length: 200 })
  requestId!: string;

  @Column({ name: 'applied_at', type: 'varchar', length: 30 })
  appliedAt!: string;
}
