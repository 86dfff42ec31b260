import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

export class MigrationsReadModel1764000000700 implements MigrationInterface {
  name = 'MigrationsReadModel1764000000700';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'schema_migrations',
        columns: [
          { name: 'id', type: 'varchar', length: '64', isPrimary: true },
          { name: 'service', type: 'varchar', length: '100' },
          { name: 'status', type: 'varchar', length: '20' },
          { name: 'planned_at', type: 'varchar', length: '30' },
          { name: 'summary', type: 'text' },
          { name: 'last_sequence', type: 'integer' },
        ],
      }),
    );
    await queryRunner.createIndex(
      'schema_migrations',
      new TableIndex({ name: 'schema_migrations_service', columnNames: ['service'] }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('schema_migrations');
  }
}
