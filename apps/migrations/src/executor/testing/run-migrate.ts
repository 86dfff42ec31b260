// Test fixture: runs the migrate phase of an expanded migration in its own process, so a test
// can kill it with SIGKILL in the middle of the backfill. Args: databaseUrl schema name batch pauseMs
import { PgMigrationExecutor } from '../pg-executor';

async function main(): Promise<void> {
  const [databaseUrl, schema, name, batchSize, pauseMs] = process.argv.slice(2);
  const executor = new PgMigrationExecutor(databaseUrl!);
  const program = await executor.program(schema!, name!);
  await executor.migrate(program, { batchSize: Number(batchSize), pauseMs: Number(pauseMs) });
  await executor.close();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
