import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

export class FlagsReadModel1764000000600 implements MigrationInterface {
  name = 'FlagsReadModel1764000000600';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'flag_projects',
        columns: [
          { name: 'name', type: 'varchar', length: '100', isPrimary: true },
          { name: 'version', type: 'integer' },
          { name: 'block_releases_on_expired', type: 'boolean' },
          { name: 'state', type: 'text' },
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'flag_summaries',
        columns: [
          { name: 'project', type: 'varchar', length: '100', isPrimary: true },
          { name: 'key', type: 'varchar', length: '100', isPrimary: true },
          { name: 'type', type: 'varchar', length: '20' },
          { name: 'owner', type: 'varchar', length: '200' },
          { name: 'description', type: 'text' },
          { name: 'created_at', type: 'varchar', length: '30' },
          { name: 'expires_at', type: 'varchar', length: '30', isNullable: true },
          { name: 'potentially_stale_at', type: 'varchar', length: '30', isNullable: true },
          { name: 'enabled_in', type: 'varchar', length: '500' },
          { name: 'definition', type: 'text' },
          { name: 'retired', type: 'boolean' },
          { name: 'retired_at', type: 'varchar', length: '30', isNullable: true },
          { name: 'version', type: 'integer' },
        ],
      }),
    );
    await queryRunner.createIndex(
      'flag_summaries',
      new TableIndex({ name: 'flag_summaries_expires_at', columnNames: ['expires_at'] }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('flag_summaries');
    await queryRunner.dropTable('flag_projects');
  }
}
