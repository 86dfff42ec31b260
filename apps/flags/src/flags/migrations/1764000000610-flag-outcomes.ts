import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/** Outcomes SDKs report for flags under guarded rollout (see outcome-store.ts). */
export class FlagOutcomes1764000000610 implements MigrationInterface {
  name = 'FlagOutcomes1764000000610';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'flag_outcomes',
        columns: [
          {
            name: 'id',
            type: 'integer',
            isPrimary: true,
            isGenerated: true,
            generationStrategy: 'increment',
          },
          { name: 'project', type: 'varchar', length: '100' },
          { name: 'flag_key', type: 'varchar', length: '100' },
          { name: 'environment', type: 'varchar', length: '40' },
          { name: 'ramp_id', type: 'varchar', length: '64' },
          { name: 'step', type: 'integer' },
          { name: 'cohort', type: 'varchar', length: '3' },
          { name: 'requests', type: 'integer' },
          { name: 'errors', type: 'integer' },
          { name: 'latencies_ms', type: 'text' },
          { name: 'received_at', type: 'varchar', length: '30' },
        ],
      }),
    );
    await queryRunner.createIndex(
      'flag_outcomes',
      new TableIndex({ name: 'flag_outcomes_ramp_step', columnNames: ['ramp_id', 'step'] }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('flag_outcomes');
  }
}
