import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';

export class ReleaseSignals1764000000300 implements MigrationInterface {
  name = 'ReleaseSignals1764000000300';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'route_answers',
        columns: [
          { name: 'request_id', type: 'varchar', length: '200', isPrimary: true },
          { name: 'release_id', type: 'varchar', length: '64' },
          { name: 'outcome', type: 'varchar', length: '10' },
          { name: 'reason', type: 'text', isNullable: true },
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'analysis_verdicts',
        columns: [
          { name: 'analysis_run_id', type: 'varchar', length: '200', isPrimary: true },
          { name: 'release_id', type: 'varchar', length: '64' },
          { name: 'verdict', type: 'varchar', length: '10' },
          { name: 'reasons', type: 'text' },
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('analysis_verdicts');
    await queryRunner.dropTable('route_answers');
  }
}
