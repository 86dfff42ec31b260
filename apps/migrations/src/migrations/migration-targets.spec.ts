import { ConfigError, migrationDatabases, parseConfig } from '@rollgate/platform';

describe('ROLLGATE_MIGRATION_DATABASES', () => {
  it('defaults to the database of ROLLGATE_DATABASE_URL, and takes a comma-separated list', () => {
    expect(migrationDatabases(parseConfig({}))).toEqual(['postgres']);
    expect(
      migrationDatabases(
        parseConfig({ ROLLGATE_DATABASE_URL: 'postgres://rg:secret@db.internal:5432/rollgate' }),
      ),
    ).toEqual(['rollgate']);
    expect(
      migrationDatabases(parseConfig({ ROLLGATE_MIGRATION_DATABASES: ' accounts, billing ,' })),
    ).toEqual(['accounts', 'billing']);
  });

  it('refuses a name that is not a database name, by variable', () => {
    expect(() => parseConfig({ ROLLGATE_MIGRATION_DATABASES: 'accounts,"evil";' })).toThrow(
      ConfigError,
    );
    expect(() => parseConfig({ ROLLGATE_MIGRATION_DATABASES: 'Accounts' })).toThrow(
      /ROLLGATE_MIGRATION_DATABASES: 'Accounts' is not a database name/,
    );
  });
});
