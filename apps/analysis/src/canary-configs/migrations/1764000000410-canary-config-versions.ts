import { Table, TableColumn, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

export class CanaryConfigVersions1764000000410 implements MigrationInterface {
  name = 'CanaryConfigVersions1764000000410';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'canary_config_versions',
        columns: [
          { name: 'name', type: 'varchar', length: '63', isPrimary: true },
          { name: 'version', type: 'integer', isPrimary: true },
          { name: 'document', type: 'text' },
          { name: 'applied_at', type: 'varchar', length: '30' },
          { name: 'applied_by', type: 'varchar', length: '200' },
          { name: 'event_id', type: 'varchar', length: '36' },
        ],
      }),
    );
    await queryRunner.createIndex(
      'canary_config_versions',
      new TableIndex({
        name: 'canary_config_versions_in_force',
        columnNames: ['name', 'applied_at'],
      }),
    );
    // Which config version judges a run: resolved once, when the run is recorded.
    await queryRunner.addColumn(
      'analysis_runs',
      new TableColumn({ name: 'canary_config', type: 'text', isNullable: true }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('analysis_runs', 'canary_config');
    await queryRunner.dropTable('canary_config_versions');
  }
}
