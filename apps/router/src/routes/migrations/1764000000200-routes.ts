import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';

export class Routes1764000000200 implements MigrationInterface {
  name = 'Routes1764000000200';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'routes',
        columns: [
          { name: 'service', type: 'varchar', length: '100', isPrimary: true },
          { name: 'route', type: 'text' },
          { name: 'data_plane', type: 'varchar', length: '40' },
          { name: 'request_id', type: 'varchar', length: '200' },
          { name: 'applied_at', type: 'varchar', length: '30' },
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('routes');
  }
}
