import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';

export class AnalysisRuns1764000000400 implements MigrationInterface {
  name = 'AnalysisRuns1764000000400';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'analysis_runs',
        columns: [
          { name: 'run_id', type: 'varchar', length: '200', isPrimary: true },
          { name: 'request', type: 'text' },
          { name: 'started_at', type: 'varchar', length: '30' },
          { name: 'start_counters', type: 'text', isNullable: true },
          { name: 'done', type: 'boolean' },
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('analysis_runs');
  }
}
