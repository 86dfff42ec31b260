import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';

export class ReleaseRollbackRequests1764000000701 implements MigrationInterface {
  name = 'ReleaseRollbackRequests1764000000701';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'migration_release_rollbacks',
        columns: [
          { name: 'event_id', type: 'varchar', length: '64', isPrimary: true },
          { name: 'service', type: 'varchar', length: '100' },
          { name: 'release_id', type: 'varchar', length: '100' },
          { name: 'occurred_at', type: 'varchar', length: '30' },
          { name: 'attempts', type: 'integer', default: 0 },
          { name: 'last_error', type: 'text', isNullable: true },
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('migration_release_rollbacks');
  }
}
