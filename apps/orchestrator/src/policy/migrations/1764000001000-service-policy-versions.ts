import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

export class ServicePolicyVersions1764000001000 implements MigrationInterface {
  name = 'ServicePolicyVersions1764000001000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'service_policy_versions',
        columns: [
          { name: 'service', type: 'varchar', length: '63', isPrimary: true },
          { name: 'version', type: 'integer', isPrimary: true },
          { name: 'document', type: 'text' },
          { name: 'applied_at', type: 'varchar', length: '30' },
          { name: 'applied_by', type: 'varchar', length: '200' },
          { name: 'event_id', type: 'varchar', length: '36' },
        ],
      }),
    );
    await queryRunner.createIndex(
      'service_policy_versions',
      new TableIndex({
        name: 'service_policy_versions_in_force',
        columnNames: ['service', 'applied_at'],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('service_policy_versions');
  }
}
