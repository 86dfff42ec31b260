import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/** Webhook subscriptions (with their URL and secret), their deliveries and every attempt. */
export class Webhooks1764000000900 implements MigrationInterface {
  name = 'Webhooks1764000000900';

  async up(queryRunner: QueryRunner): Promise<void> {
    const id = {
      name: 'id',
      type: 'integer',
      isPrimary: true,
      isGenerated: true,
      generationStrategy: 'increment' as const,
    };
    const instant = (name: string, isNullable = false) => ({
      name,
      type: 'varchar',
      length: '30',
      isNullable,
    });
    await queryRunner.createTable(
      new Table({
        name: 'webhook_subscriptions',
        columns: [
          { name: 'id', type: 'varchar', length: '64', isPrimary: true },
          { name: 'url', type: 'text' },
          // Never returned by the API nor written to the log; the service's own database only.
          { name: 'secret', type: 'text' },
          { name: 'secret_fingerprint', type: 'varchar', length: '30' },
          { name: 'types', type: 'text' },
          { name: 'service', type: 'varchar', length: '63', isNullable: true },
          { name: 'format', type: 'varchar', length: '12' },
          { name: 'timeout_ms', type: 'integer' },
          { name: 'max_attempts', type: 'integer' },
          instant('created_at'),
          { name: 'created_by', type: 'varchar', length: '200' },
          instant('deleted_at', true),
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'webhook_deliveries',
        columns: [
          id,
          { name: 'subscription_id', type: 'varchar', length: '64' },
          { name: 'event_id', type: 'varchar', length: '64' },
          { name: 'event_type', type: 'varchar', length: '200' },
          { name: 'ordering_key', type: 'varchar', length: '300' },
          { name: 'envelope', type: 'text' },
          { name: 'status', type: 'varchar', length: '12' },
          { name: 'cause', type: 'varchar', length: '12' },
          { name: 'attempts', type: 'integer' },
          instant('next_attempt_at'),
          instant('enqueued_at'),
          instant('finished_at', true),
          { name: 'last_error', type: 'text', isNullable: true },
        ],
      }),
    );
    await queryRunner.createIndex(
      'webhook_deliveries',
      new TableIndex({
        name: 'webhook_deliveries_lane',
        columnNames: ['status', 'subscription_id', 'ordering_key', 'id'],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'webhook_attempts',
        columns: [
          id,
          { name: 'delivery_id', type: 'integer' },
          { name: 'subscription_id', type: 'varchar', length: '64' },
          { name: 'event_id', type: 'varchar', length: '64' },
          { name: 'attempt', type: 'integer' },
          instant('started_at'),
          { name: 'duration_ms', type: 'integer' },
          { name: 'status_code', type: 'integer', isNullable: true },
          { name: 'outcome', type: 'varchar', length: '12' },
          { name: 'error', type: 'text', isNullable: true },
        ],
      }),
    );
    await queryRunner.createIndex(
      'webhook_attempts',
      new TableIndex({
        name: 'webhook_attempts_subscription',
        columnNames: ['subscription_id', 'id'],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('webhook_attempts');
    await queryRunner.dropTable('webhook_deliveries');
    await queryRunner.dropTable('webhook_subscriptions');
  }
}
