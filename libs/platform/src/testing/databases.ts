import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { DEFAULT_DATABASE_URL } from '../config/config';

/** Test helper: a fresh database per suite (names start with the prefix, mig_ by default), dropped afterwards. */
export async function createTestDatabase(
  prefix = 'mig_',
): Promise<{ url: string; drop: () => Promise<void> }> {
  const adminUrl = process.env['ROLLGATE_DATABASE_URL'] ?? DEFAULT_DATABASE_URL;
  const name = `${prefix}${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}
