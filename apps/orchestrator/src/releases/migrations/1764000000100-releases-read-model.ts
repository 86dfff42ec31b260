import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

export class ReleasesReadModel1764000000100 implements MigrationInterface {
  name = 'ReleasesReadModel1764000000100';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'releases',
        columns: [
          { name: 'id', type: 'varchar', length: '64', isPrimary: true },
          { name: 'service', type: 'varchar', length: '100' },
          { name: 'phase', type: 'varchar', length: '20' },
          { name: 'requested_at', type: 'varchar', length: '30' },
          { name: 'requested_by', type: 'varchar', length: '200' },
          { name: 'summary', type: 'text' },
          { name: 'last_sequence', type: 'integer' },
        ],
      }),
    );
    await queryRunner.createIndex(
      'releases',
      new TableIndex({ name: 'releases_service', columnNames: ['service'] }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('releases');
  }
}
