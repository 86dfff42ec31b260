import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';

export class ShareRaises1764000000310 implements MigrationInterface {
  name = 'ShareRaises1764000000310';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'share_raise_requests',
        columns: [
          { name: 'analysis_run_id', type: 'varchar', length: '200', isPrimary: true },
          { name: 'release_id', type: 'varchar', length: '64' },
          { name: 'step', type: 'integer' },
          { name: 'from_percent', type: 'real' },
          { name: 'to_percent', type: 'real' },
          { name: 'reason', type: 'text' },
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('share_raise_requests');
  }
}
