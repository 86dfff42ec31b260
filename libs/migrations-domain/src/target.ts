import type { MigrationPlan, PlanProblem } from './plan';
import { versionSchemaName } from './program';

/** The executor's own bookkeeping schema in every target database. */
export const STATE_SCHEMA = 'rollgate_migrations';

/** Where plans may go: from ROLLGATE_MIGRATION_DATABASES and ROLLGATE_SCHEMA_PREFIX. */
export interface TargetPolicy {
  databases: readonly string[];
  /** Rollgate keeps its own read models in schemas with this prefix. */
  schemaPrefix: string;
}

const TEMPLATE_DATABASES = ['template0', 'template1'];

/** Why a plan may not touch `database`, or undefined. Template databases never, whatever the list. */
export function databaseProblem(database: string, policy: TargetPolicy): string | undefined {
  if (TEMPLATE_DATABASES.includes(database))
    return `${database} is a template database: every new database is copied from it`;
  if (!policy.databases.includes(database))
    return `database ${database} is not one migrations may touch (ROLLGATE_MIGRATION_DATABASES: ${policy.databases.join(', ')})`;
  return undefined;
}

/** Whose a schema is when it is not the application's: PostgreSQL's or Rollgate's own. */
function reservedBy(schema: string, policy: TargetPolicy): string | undefined {
  if (schema.startsWith('pg_') || schema === 'information_schema') return 'PostgreSQL';
  if (schema.startsWith(policy.schemaPrefix) || schema === STATE_SCHEMA) return 'Rollgate';
  return undefined;
}

/**
 * Schemas the plan would write (its schema, and the version schema expand drops and recreates)
 * that belong to PostgreSQL or to Rollgate; fields are the plan's own (`schema`, `name`).
 */
export function schemaProblems(
  plan: Pick<MigrationPlan, 'schema' | 'name'>,
  policy: TargetPolicy,
): PlanProblem[] {
  const problems: PlanProblem[] = [];
  const owner = reservedBy(plan.schema, policy);
  if (owner)
    problems.push({ field: 'schema', message: `schema ${plan.schema} belongs to ${owner}` });
  const versionSchema = versionSchemaName(plan.schema, plan.name);
  const versionOwner = reservedBy(versionSchema, policy);
  if (!owner && versionOwner)
    problems.push({
      field: 'name',
      message: `the version schema ${versionSchema} (schema_name) would be a schema of ${versionOwner}: choose another name`,
    });
  return problems;
}
