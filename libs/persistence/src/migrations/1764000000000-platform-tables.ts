import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Event store, outbox and projection checkpoints: the tables every service owns.
 * Written with TypeORM's schema builder so it runs on PostgreSQL and SQLite alike.
 */
export class PlatformTables1764000000000 implements MigrationInterface {
  name = 'PlatformTables1764000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'event_store',
        columns: [
          { name: 'stream_id', type: 'varchar', length: '200', isPrimary: true },
          { name: 'sequence', type: 'integer', isPrimary: true },
          { name: 'event_id', type: 'varchar', length: '36' },
          { name: 'type', type: 'varchar', length: '100' },
          { name: 'envelope', type: 'text' },
        ],
      }),
    );
    await queryRunner.createIndex(
      'event_store',
      new TableIndex({ name: 'event_store_event_id', columnNames: ['event_id'], isUnique: true }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'outbox',
        columns: [
          {
            name: 'id',
            type: 'integer',
            isPrimary: true,
            isGenerated: true,
            generationStrategy: 'increment',
          },
          { name: 'envelope', type: 'text' },
          { name: 'trace_context', type: 'text', isNullable: true },
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'projection_checkpoints',
        columns: [
          { name: 'projection', type: 'varchar', length: '100', isPrimary: true },
          { name: 'topic', type: 'varchar', length: '200', isPrimary: true },
          { name: 'partition', type: 'integer', isPrimary: true },
          { name: 'next_offset', type: 'bigint' },
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('projection_checkpoints');
    await queryRunner.dropTable('outbox');
    await queryRunner.dropTable('event_store');
  }
}
