import type { ColumnDef, MigrationPlan, Operation, PlanProblem } from './plan';
import type { ColumnInfo, SchemaSnapshot, TableInfo } from './snapshot';

/**
 * One unit the executor runs under `lock_timeout` with retry: either one transaction of
 * statements, or one statement that cannot run in a transaction (CREATE/DROP INDEX CONCURRENTLY).
 */
export interface Step {
  description: string;
  mode: 'transaction' | 'concurrently';
  sql: string[];
  /** For `CREATE INDEX CONCURRENTLY`: an index left invalid by a failed attempt is dropped first. */
  index?: string;
}

export interface BackfillSpec {
  table: string;
  /** Physical primary-key column; batches walk it in order. */
  key: string;
  keyType: string;
}

/** A plan compiled against a snapshot: SQL for every phase, and what the new version sees. */
export interface MigrationProgram {
  name: string;
  schema: string;
  /** The schema of views the new application version selects with search_path. */
  versionSchema: string;
  expand: Step[];
  /** Migrate, in order: dual-write triggers, backfills, validation, then the version schema. */
  triggers: Step[];
  backfills: BackfillSpec[];
  validate: Step[];
  views: Step[];
  contract: Step[];
  rollback: Step[];
}

export type CompileResult =
  { ok: true; program: MigrationProgram } | { ok: false; problems: PlanProblem[] };

export const quote = (identifier: string): string => `"${identifier.replace(/"/g, '""')}"`;
export const literal = (text: string): string => `'${text.replace(/'/g, "''")}'`;
/**
 * PostgreSQL truncates identifiers to 63 bytes, so two long generated names could become one (two
 * tables sharing a trigger function): a truncated name ends with a hash of the full name instead.
 */
const cap = (identifier: string): string =>
  identifier.length <= 63 ? identifier : `${identifier.slice(0, 54)}_${fnv1a(identifier)}`;

/** 32-bit FNV-1a as 8 hex digits: short, stable, pure. */
function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, '0');
}

/** Name of the version schema the new application puts first in its search_path. */
export const versionSchemaName = (schema: string, name: string): string => cap(`${schema}_${name}`);
const tempColumn = (column: string) => cap(`_rg_${column}`);
const syncFunction = (table: string) => cap(`_rg_sync_${table}`);
const notNullCheck = (table: string, column: string) => cap(`_rg_nn_${table}_${column}`);

/** A column of a table as one application version sees it, and where it physically lives. */
interface ViewColumn {
  logical: string;
  physical: string;
}

/** The model of one table while the plan is walked. */
interface TableModel {
  name: string;
  created: boolean;
  dropped: boolean;
  /** Physical columns before this plan: what the old version sees. */
  original: string[];
  physical: Map<string, ColumnInfo>;
  primaryKey: string[];
  /** Columns of the new version, in order. */
  view: ViewColumn[];
  /** Assignments for rows written by the old version: physical column := expression over old names. */
  up: { target: string; expression: string }[];
  /** Assignments for rows written by the new version: physical column := expression over new names. */
  down: { target: string; expression: string }[];
  /** Physical columns already claimed by a rewriting operation in this plan. */
  touched: Set<string>;
  contract: string[];
  rollback: string[];
  validate: string[];
}

function columnSql(column: ColumnDef, forceNullable = false): string {
  const parts = [quote(column.name), column.type];
  // Parenthesised: a column DEFAULT takes only a restricted expression, and nothing may run on.
  if (column.default !== undefined) parts.push(`DEFAULT (${column.default})`);
  if (column.nullable === false && !forceNullable) parts.push('NOT NULL');
  return parts.join(' ');
}

/**
 * Checks a plan against the database it targets (unknown tables and columns, missing up/down,
 * drops of columns a new version reads) and turns it into expand, migrate and contract SQL.
 * Pure: the snapshot is read by the caller before anything touches the database.
 */
export function compilePlan(plan: MigrationPlan, snapshot: SchemaSnapshot): CompileResult {
  const problems: PlanProblem[] = [];
  const fail = (field: string, message: string) => problems.push({ field, message });
  const s = plan.schema;
  const qs = quote(s);
  const qt = (table: string) => `${qs}.${quote(table)}`;
  const tables = new Map<string, TableModel>();
  for (const t of snapshot.tables) tables.set(t.name, modelOf(t));
  const indexes = new Set(snapshot.indexes);
  const constraints = new Set(snapshot.constraints);
  const expand: Step[] = [];
  const contractIndexes: Step[] = [];
  const rollbackIndexes: Step[] = [];
  const newReads = new Map<string, string>();
  for (const version of plan.versions.new)
    for (const column of plan.reads[version] ?? []) newReads.set(column, version);

  const tableOf = (op: { table: string }, field: string): TableModel | undefined => {
    const t = tables.get(op.table);
    if (!t || t.dropped) {
      fail(field, `unknown table '${op.table}' in schema ${s}`);
      return undefined;
    }
    return t;
  };
  const columnOf = (t: TableModel, name: string, field: string): ViewColumn | undefined => {
    const c = t.view.find((v) => v.logical === name);
    if (!c) fail(field, `unknown column '${t.name}.${name}'`);
    return c;
  };
  const claim = (t: TableModel, physical: string, field: string): boolean => {
    if (t.touched.has(physical)) {
      fail(
        field,
        `column '${t.name}.${physical}' is already rewritten by another operation of this plan: one rewrite per column per migration, put the next one in a later migration`,
      );
      return false;
    }
    t.touched.add(physical);
    return true;
  };
  const freeName = (t: TableModel, name: string, field: string): boolean => {
    if (t.view.some((v) => v.logical === name) || t.physical.has(name)) {
      fail(field, `column '${t.name}.${name}' already exists`);
      return false;
    }
    return true;
  };
  const physicalColumns = (t: TableModel, names: string[], field: string): string[] | undefined => {
    const out: string[] = [];
    names.forEach((name, i) => {
      const c = columnOf(t, name, `${field}[${i}]`);
      if (c) {
        if (t.touched.has(c.physical) && c.physical !== c.logical && c.physical.startsWith('_rg_'))
          fail(
            `${field}[${i}]`,
            `column '${t.name}.${name}' is rewritten by this plan: constrain it in a later migration`,
          );
        out.push(c.physical);
      }
    });
    return out.length === names.length ? out : undefined;
  };
  const readBy = (table: string, column: string) => newReads.get(`${table}.${column}`);

  plan.operations.forEach((op: Operation, i) => {
    const f = `operations[${i}]`;
    switch (op.op) {
      case 'createTable': {
        if (tables.has(op.table)) return fail(`${f}.table`, `table '${op.table}' already exists`);
        const names = new Set<string>();
        op.columns.forEach((c, ci) => {
          if (names.has(c.name)) fail(`${f}.columns[${ci}].name`, `duplicate column '${c.name}'`);
          names.add(c.name);
        });
        const pk = op.columns.filter((c) => c.primaryKey).map((c) => c.name);
        const body = [
          ...op.columns.map((c) => columnSql(c)),
          `PRIMARY KEY (${pk.map(quote).join(', ')})`,
        ];
        expand.push({
          description: `create table ${op.table}`,
          mode: 'transaction',
          sql: [`CREATE TABLE ${qt(op.table)} (${body.join(', ')})`],
        });
        const model: TableModel = modelOf({
          name: op.table,
          primaryKey: pk,
          columns: op.columns.map((c) => ({
            name: c.name,
            type: c.type,
            nullable: c.nullable !== false,
            default: c.default ?? null,
          })),
        });
        model.created = true;
        model.rollback.push(`DROP TABLE IF EXISTS ${qt(op.table)}`);
        tables.set(op.table, model);
        return;
      }
      case 'addColumn': {
        const t = tableOf(op, `${f}.table`);
        if (!t || !freeName(t, op.column.name, `${f}.column.name`)) return;
        const required = op.column.nullable === false;
        if (required && op.column.default === undefined && !op.up && !t.created)
          return fail(
            `${f}.up`,
            `adding NOT NULL column '${op.table}.${op.column.name}' without a default needs up: an expression that fills existing rows and rows the old version writes`,
          );
        // NOT NULL arrives in contract, after a NOT VALID check is validated; the old version never writes it.
        const deferNotNull = required && !t.created && op.column.default === undefined;
        const sql = [`ALTER TABLE ${qt(t.name)} ADD COLUMN ${columnSql(op.column, deferNotNull)}`];
        if (deferNotNull) {
          const check = notNullCheck(t.name, op.column.name);
          sql.push(
            `ALTER TABLE ${qt(t.name)} ADD CONSTRAINT ${quote(check)} CHECK (${quote(op.column.name)} IS NOT NULL) NOT VALID`,
          );
          t.validate.push(`ALTER TABLE ${qt(t.name)} VALIDATE CONSTRAINT ${quote(check)}`);
          t.contract.push(
            `ALTER TABLE ${qt(t.name)} ALTER COLUMN ${quote(op.column.name)} SET NOT NULL`,
            `ALTER TABLE ${qt(t.name)} DROP CONSTRAINT ${quote(check)}`,
          );
        }
        expand.push({
          description: `add column ${t.name}.${op.column.name}`,
          mode: 'transaction',
          sql,
        });
        t.physical.set(op.column.name, {
          name: op.column.name,
          type: op.column.type,
          nullable: true,
          default: op.column.default ?? null,
        });
        t.view.push({ logical: op.column.name, physical: op.column.name });
        t.touched.add(op.column.name);
        if (op.up) t.up.push({ target: op.column.name, expression: op.up });
        t.rollback.push(`ALTER TABLE ${qt(t.name)} DROP COLUMN IF EXISTS ${quote(op.column.name)}`);
        return;
      }
      case 'renameColumn': {
        const t = tableOf(op, `${f}.table`);
        if (!t) return;
        const c = columnOf(t, op.from, `${f}.from`);
        if (!c || !freeName(t, op.to, `${f}.to`) || !claim(t, c.physical, `${f}.from`)) return;
        const reader = readBy(t.name, op.from);
        if (reader)
          return fail(
            `${f}.from`,
            `column '${t.name}.${op.from}' is still read by new version ${reader} (reads.${reader})`,
          );
        // Free for both versions until contract: the new version's view maps the new name.
        c.logical = op.to;
        t.contract.push(
          `ALTER TABLE ${qt(t.name)} RENAME COLUMN ${quote(c.physical)} TO ${quote(op.to)}`,
        );
        return;
      }
      case 'changeType':
      case 'setNotNull': {
        const t = tableOf(op, `${f}.table`);
        if (!t) return;
        const c = columnOf(t, op.column, `${f}.column`);
        if (!c || !claim(t, c.physical, `${f}.column`)) return;
        const old = t.physical.get(c.physical)!;
        if (op.op === 'setNotNull' && !old.nullable)
          return fail(`${f}.column`, `column '${t.name}.${op.column}' is already NOT NULL`);
        if (t.primaryKey.includes(c.physical))
          return fail(
            `${f}.column`,
            `column '${t.name}.${op.column}' is the primary key: rewriting it is not supported`,
          );
        const type = op.op === 'changeType' ? op.type : old.type;
        const temp = tempColumn(c.physical);
        const sql = [`ALTER TABLE ${qt(t.name)} ADD COLUMN ${quote(temp)} ${type}`];
        if (op.op === 'setNotNull') {
          const check = notNullCheck(t.name, op.column);
          sql.push(
            `ALTER TABLE ${qt(t.name)} ADD CONSTRAINT ${quote(check)} CHECK (${quote(temp)} IS NOT NULL) NOT VALID`,
          );
          t.validate.push(`ALTER TABLE ${qt(t.name)} VALIDATE CONSTRAINT ${quote(check)}`);
          t.contract.push(
            `ALTER TABLE ${qt(t.name)} ALTER COLUMN ${quote(temp)} SET NOT NULL`,
            `ALTER TABLE ${qt(t.name)} DROP CONSTRAINT ${quote(check)}`,
          );
        }
        expand.push({
          description: `add ${t.name}.${temp} (${type}) beside ${c.physical}`,
          mode: 'transaction',
          sql,
        });
        t.physical.set(temp, { name: temp, type, nullable: true, default: null });
        t.touched.add(temp);
        t.up.push({ target: temp, expression: op.up });
        t.down.push({
          target: c.physical,
          expression: op.op === 'changeType' ? op.down : op.column,
        });
        const logical = c.logical;
        c.physical = temp;
        c.logical = logical;
        t.contract.push(
          `ALTER TABLE ${qt(t.name)} DROP COLUMN ${quote(old.name)}`,
          `ALTER TABLE ${qt(t.name)} RENAME COLUMN ${quote(temp)} TO ${quote(old.name)}`,
        );
        t.rollback.push(`ALTER TABLE ${qt(t.name)} DROP COLUMN IF EXISTS ${quote(temp)}`);
        return;
      }
      case 'splitColumn': {
        const t = tableOf(op, `${f}.table`);
        if (!t) return;
        const c = columnOf(t, op.column, `${f}.column`);
        if (!c || !claim(t, c.physical, `${f}.column`)) return;
        if (!op.into.every((n, ni) => freeName(t, n.name, `${f}.into[${ni}].name`))) return;
        const sql = op.into.map(
          (n) => `ALTER TABLE ${qt(t.name)} ADD COLUMN ${quote(n.name)} ${n.type}`,
        );
        expand.push({
          description: `add ${op.into.map((n) => `${t.name}.${n.name}`).join(', ')}`,
          mode: 'transaction',
          sql,
        });
        const at = t.view.indexOf(c);
        t.view.splice(at, 1, ...op.into.map((n) => ({ logical: n.name, physical: n.name })));
        for (const n of op.into) {
          t.physical.set(n.name, { name: n.name, type: n.type, nullable: true, default: null });
          t.touched.add(n.name);
          t.up.push({ target: n.name, expression: n.up });
          t.rollback.push(`ALTER TABLE ${qt(t.name)} DROP COLUMN IF EXISTS ${quote(n.name)}`);
        }
        t.down.push({ target: c.physical, expression: op.down });
        t.contract.push(`ALTER TABLE ${qt(t.name)} DROP COLUMN ${quote(c.physical)}`);
        return;
      }
      case 'mergeColumns': {
        const t = tableOf(op, `${f}.table`);
        if (!t) return;
        const sources = op.columns.map((name, ci) => columnOf(t, name, `${f}.columns[${ci}]`));
        if (sources.some((c) => !c)) return;
        if (!sources.every((c, ci) => claim(t, c!.physical, `${f}.columns[${ci}]`))) return;
        if (!freeName(t, op.into.name, `${f}.into.name`)) return;
        expand.push({
          description: `add ${t.name}.${op.into.name}`,
          mode: 'transaction',
          sql: [`ALTER TABLE ${qt(t.name)} ADD COLUMN ${quote(op.into.name)} ${op.into.type}`],
        });
        const at = t.view.indexOf(sources[0]!);
        t.view = t.view.filter((v) => !sources.includes(v));
        t.view.splice(Math.min(at, t.view.length), 0, {
          logical: op.into.name,
          physical: op.into.name,
        });
        t.physical.set(op.into.name, {
          name: op.into.name,
          type: op.into.type,
          nullable: true,
          default: null,
        });
        t.touched.add(op.into.name);
        t.up.push({ target: op.into.name, expression: op.into.up });
        for (const src of sources) {
          t.down.push({ target: src!.physical, expression: op.down[src!.logical]! });
          t.contract.push(`ALTER TABLE ${qt(t.name)} DROP COLUMN ${quote(src!.physical)}`);
        }
        t.rollback.push(`ALTER TABLE ${qt(t.name)} DROP COLUMN IF EXISTS ${quote(op.into.name)}`);
        return;
      }
      case 'createIndex': {
        const t = tableOf(op, `${f}.table`);
        if (!t) return;
        if (indexes.has(op.name) || constraints.has(op.name))
          return fail(`${f}.name`, `index or constraint '${op.name}' already exists`);
        const cols = physicalColumns(t, op.columns, `${f}.columns`);
        if (!cols) return;
        indexes.add(op.name);
        expand.push({
          description: `create index ${op.name} concurrently`,
          mode: 'concurrently',
          index: op.name,
          sql: [
            `CREATE ${op.unique ? 'UNIQUE ' : ''}INDEX CONCURRENTLY IF NOT EXISTS ${quote(op.name)} ON ${qt(t.name)} (${cols.map(quote).join(', ')})`,
          ],
        });
        rollbackIndexes.push(dropIndexStep(s, op.name));
        return;
      }
      case 'dropIndex': {
        if (!indexes.has(op.name))
          return fail(`${f}.name`, `unknown index '${op.name}' in schema ${s}`);
        indexes.delete(op.name);
        contractIndexes.push(dropIndexStep(s, op.name));
        return;
      }
      case 'addForeignKey': {
        const t = tableOf(op, `${f}.table`);
        if (!t) return;
        if (constraints.has(op.name) || indexes.has(op.name))
          return fail(`${f}.name`, `constraint '${op.name}' already exists`);
        const cols = physicalColumns(t, op.columns, `${f}.columns`);
        const target = tableOf(op.references, `${f}.references.table`);
        if (!cols || !target) return;
        const refCols = physicalColumns(target, op.references.columns, `${f}.references.columns`);
        if (!refCols) return;
        constraints.add(op.name);
        const onDelete = op.onDelete ? ` ON DELETE ${op.onDelete.toUpperCase()}` : '';
        expand.push({
          description: `add foreign key ${op.name} NOT VALID`,
          mode: 'transaction',
          sql: [
            `ALTER TABLE ${qt(t.name)} ADD CONSTRAINT ${quote(op.name)} FOREIGN KEY (${cols.map(quote).join(', ')}) REFERENCES ${qt(target.name)} (${refCols.map(quote).join(', ')})${onDelete} NOT VALID`,
          ],
        });
        t.validate.push(`ALTER TABLE ${qt(t.name)} VALIDATE CONSTRAINT ${quote(op.name)}`);
        t.rollback.push(`ALTER TABLE ${qt(t.name)} DROP CONSTRAINT IF EXISTS ${quote(op.name)}`);
        return;
      }
      case 'addCheck': {
        const t = tableOf(op, `${f}.table`);
        if (!t) return;
        if (constraints.has(op.name) || indexes.has(op.name))
          return fail(`${f}.name`, `constraint '${op.name}' already exists`);
        constraints.add(op.name);
        // The expression names columns as the new version sees them; map them to physical names.
        const expressionSql = renameIdentifiers(op.expression, t.view);
        expand.push({
          description: `add check ${op.name} NOT VALID`,
          mode: 'transaction',
          sql: [
            `ALTER TABLE ${qt(t.name)} ADD CONSTRAINT ${quote(op.name)} CHECK (${expressionSql}) NOT VALID`,
          ],
        });
        t.validate.push(`ALTER TABLE ${qt(t.name)} VALIDATE CONSTRAINT ${quote(op.name)}`);
        t.rollback.push(`ALTER TABLE ${qt(t.name)} DROP CONSTRAINT IF EXISTS ${quote(op.name)}`);
        return;
      }
      case 'addUnique': {
        const t = tableOf(op, `${f}.table`);
        if (!t) return;
        if (constraints.has(op.name) || indexes.has(op.name))
          return fail(`${f}.name`, `constraint '${op.name}' already exists`);
        const cols = physicalColumns(t, op.columns, `${f}.columns`);
        if (!cols) return;
        constraints.add(op.name);
        expand.push({
          description: `build unique index ${op.name} concurrently`,
          mode: 'concurrently',
          index: op.name,
          sql: [
            `CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS ${quote(op.name)} ON ${qt(t.name)} (${cols.map(quote).join(', ')})`,
          ],
        });
        t.validate.push(
          `ALTER TABLE ${qt(t.name)} ADD CONSTRAINT ${quote(op.name)} UNIQUE USING INDEX ${quote(op.name)}`,
        );
        t.rollback.push(`ALTER TABLE ${qt(t.name)} DROP CONSTRAINT IF EXISTS ${quote(op.name)}`);
        rollbackIndexes.push(dropIndexStep(s, op.name));
        return;
      }
      case 'dropColumn': {
        const t = tableOf(op, `${f}.table`);
        if (!t) return;
        const c = columnOf(t, op.column, `${f}.column`);
        if (!c) return;
        const reader = readBy(t.name, op.column);
        if (reader)
          return fail(
            `${f}.column`,
            `column '${t.name}.${op.column}' is still read by new version ${reader} (reads.${reader}): it cannot be dropped`,
          );
        if (!claim(t, c.physical, `${f}.column`)) return;
        const info = t.physical.get(c.physical)!;
        if (t.primaryKey.includes(c.physical))
          return fail(`${f}.column`, `column '${t.name}.${op.column}' is the primary key`);
        if (!info.nullable && info.default === null && !op.down)
          return fail(
            `${f}.down`,
            `column '${t.name}.${op.column}' is NOT NULL without a default: the new version inserts rows without it, so down must give its value`,
          );
        t.view = t.view.filter((v) => v !== c);
        if (op.down) t.down.push({ target: c.physical, expression: op.down });
        t.contract.push(`ALTER TABLE ${qt(t.name)} DROP COLUMN ${quote(c.physical)}`);
        return;
      }
      case 'dropTable': {
        const t = tableOf(op, `${f}.table`);
        if (!t) return;
        const reader = [...newReads.entries()].find(([column]) => column.startsWith(`${t.name}.`));
        if (reader)
          return fail(
            `${f}.table`,
            `table '${t.name}' is still read by new version ${reader[1]} (reads.${reader[1]})`,
          );
        t.dropped = true;
        return;
      }
    }
  });

  const versionSchema = versionSchemaName(s, plan.name);
  const triggers: Step[] = [];
  const backfills: BackfillSpec[] = [];
  const validate: Step[] = [];
  const contract: Step[] = [];
  const rollback: Step[] = [];
  const views: string[] = [
    `DROP SCHEMA IF EXISTS ${quote(versionSchema)} CASCADE`,
    `CREATE SCHEMA ${quote(versionSchema)}`,
  ];

  for (const op of plan.operations) {
    if (op.op === 'dropTable' && tables.get(op.table)?.dropped)
      contract.push({
        description: `drop table ${op.table}`,
        mode: 'transaction',
        sql: [`DROP TABLE ${qt(op.table)}`],
      });
  }

  for (const t of tables.values()) {
    const needsSync = t.up.length > 0 || t.down.length > 0;
    if (needsSync) {
      if (t.up.length > 0) {
        if (t.primaryKey.length !== 1) {
          const index = plan.operations.findIndex((op) => 'table' in op && op.table === t.name);
          fail(
            `operations[${index}].table`,
            `table '${t.name}' needs a single-column primary key to be backfilled in batches`,
          );
          continue;
        }
        const key = t.primaryKey[0]!;
        backfills.push({ table: t.name, key, keyType: t.physical.get(key)!.type });
      }
      const fn = `${qs}.${quote(syncFunction(t.name))}`;
      triggers.push({
        description: `dual-write trigger on ${t.name}`,
        mode: 'transaction',
        sql: [
          syncFunctionSql(fn, plan, versionSchema, t, qt(t.name)),
          `CREATE OR REPLACE TRIGGER ${quote(syncFunction(t.name))} BEFORE INSERT OR UPDATE ON ${qt(t.name)} FOR EACH ROW EXECUTE FUNCTION ${fn}()`,
        ],
      });
      const dropSync = [
        `DROP TRIGGER IF EXISTS ${quote(syncFunction(t.name))} ON ${qt(t.name)}`,
        `DROP FUNCTION IF EXISTS ${fn}()`,
      ];
      t.contract.unshift(...dropSync);
      rollback.push({
        description: `drop dual-write trigger on ${t.name}`,
        mode: 'transaction',
        sql: dropSync,
      });
    }
    if (t.validate.length > 0)
      validate.push(
        ...t.validate.map((sql) => ({
          description: `validate on ${t.name}`,
          mode: 'transaction' as const,
          sql: [sql],
        })),
      );
    if (t.contract.length > 0 && !t.dropped)
      contract.push({ description: `contract ${t.name}`, mode: 'transaction', sql: t.contract });
    if (t.rollback.length > 0)
      rollback.push({
        description: `undo expand on ${t.name}`,
        mode: 'transaction',
        sql: [...t.rollback].reverse(),
      });
    if (!t.dropped) views.push(...viewSql(quote(versionSchema), t, qt(t.name)));
  }

  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    program: {
      name: plan.name,
      schema: s,
      versionSchema,
      expand,
      triggers,
      backfills,
      validate,
      views: [
        { description: `publish version schema ${versionSchema}`, mode: 'transaction', sql: views },
      ],
      contract: [...contractIndexes, ...contract],
      rollback: [
        {
          description: `drop version schema ${versionSchema}`,
          mode: 'transaction',
          sql: [`DROP SCHEMA IF EXISTS ${quote(versionSchema)} CASCADE`],
        },
        ...rollback,
        ...rollbackIndexes,
      ],
    },
  };
}

function modelOf(t: TableInfo): TableModel {
  return {
    name: t.name,
    created: false,
    dropped: false,
    original: t.columns.map((c) => c.name),
    physical: new Map(t.columns.map((c) => [c.name, { ...c }])),
    primaryKey: [...t.primaryKey],
    view: t.columns.map((c) => ({ logical: c.name, physical: c.name })),
    up: [],
    down: [],
    touched: new Set(),
    contract: [],
    rollback: [],
    validate: [],
  };
}

function dropIndexStep(schema: string, name: string): Step {
  return {
    description: `drop index ${name} concurrently`,
    mode: 'concurrently',
    sql: [`DROP INDEX CONCURRENTLY IF EXISTS ${quote(schema)}.${quote(name)}`],
  };
}

/** Replaces whole-word column names by their physical names (names are plain lowercase identifiers). */
function renameIdentifiers(expression: string, view: ViewColumn[]): string {
  const map = new Map(
    view.filter((v) => v.logical !== v.physical).map((v) => [v.logical, v.physical]),
  );
  if (map.size === 0) return expression;
  return expression.replace(/("[^"]*"|'[^']*'|\b[a-z_][a-z0-9_]*\b)/g, (token) =>
    map.has(token) ? quote(map.get(token)!) : token,
  );
}

/**
 * One BEFORE trigger per table. A row written by the old version gets the new columns from the up
 * expressions (over the old column names); a row written by the new version gets the old columns
 * from the down expressions (over the new names). The new version is recognised by the first
 * entry of its search_path (the version schema) or by `SET rollgate.schema_version`.
 */
function syncFunctionSql(
  fn: string,
  plan: MigrationPlan,
  versionSchema: string,
  t: TableModel,
  qualifiedTable: string,
): string {
  const declare = (names: ViewColumn[], prefix: string) =>
    names.map(
      (v) =>
        `  ${quote(`${prefix}${v.logical}`)} ${qualifiedTable}.${quote(v.physical)}%TYPE := NEW.${quote(v.physical)};`,
    );
  // Old names are declared from the physical table as the old version sees it (before this plan).
  const oldView = t.created ? [] : t.original.map((name) => ({ logical: name, physical: name }));
  const upLines = t.up.map((a) => assignment(a, oldView, 'o_'));
  const downLines = t.down.map((a) => assignment(a, t.view, 'n_'));
  const body = [
    'DECLARE',
    ...declare(oldView, 'o_'),
    ...declare(t.view, 'n_'),
    'BEGIN',
    `  IF coalesce(current_setting('rollgate.schema_version', true), '') = ${literal(plan.name)}`,
    `     OR btrim(split_part(current_setting('search_path'), ',', 1), ' "') = ${literal(versionSchema)} THEN`,
    ...(downLines.length > 0 ? downLines : ['      NULL;']),
    '  ELSE',
    ...(upLines.length > 0 ? upLines : ['      NULL;']),
    '  END IF;',
    '  RETURN NEW;',
    'END',
  ].join('\n');
  // A string literal of an up or down expression may hold `$rg$`: it must not end the body.
  let tag = '$rg$';
  for (let n = 1; body.includes(tag); n++) tag = `$rg${n}$`;
  return `CREATE OR REPLACE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS ${tag}\n${body}\n${tag}`;
}

/**
 * One derived column. An INSERT always gets it. An UPDATE recomputes it only when a column its
 * expression reads changed, or when it is still NULL (backfill, rows from before the trigger):
 * a write that did not touch the source must keep what the other version wrote there.
 */
function assignment(
  a: { target: string; expression: string },
  view: ViewColumn[],
  prefix: string,
): string {
  const set = `NEW.${quote(a.target)} := (${qualify(a.expression, view, prefix)});`;
  const changed = sourcesOf(a.expression, view).map(
    (physical) => `NEW.${quote(physical)}::text IS DISTINCT FROM OLD.${quote(physical)}::text`,
  );
  const when = [`TG_OP = 'INSERT'`, `NEW.${quote(a.target)} IS NULL`, ...changed].join(' OR ');
  return `      IF ${when} THEN ${set} END IF;`;
}

/** Physical columns an expression reads (its plain names that are columns of the view). */
function sourcesOf(expression: string, view: ViewColumn[]): string[] {
  const byName = new Map(view.map((v) => [v.logical, v.physical]));
  const out = new Set<string>();
  for (const token of expression.match(/("[^"]*"|'[^']*'|\b[a-z_][a-z0-9_]*\b)/g) ?? [])
    if (byName.has(token)) out.add(byName.get(token)!);
  return [...out];
}

/**
 * Up and down expressions name columns plainly (`amount::integer`); inside the trigger they
 * become prefixed variables so a name never clashes with PL/pgSQL or with the other version.
 */
function qualify(expression: string, view: ViewColumn[], prefix: string): string {
  const names = new Set(view.map((v) => v.logical));
  return expression.replace(/("[^"]*"|'[^']*'|\b[a-z_][a-z0-9_]*\b)/g, (token) =>
    names.has(token) ? quote(`${prefix}${token}`) : token,
  );
}

function viewSql(qVersionSchema: string, t: TableModel, qualifiedTable: string): string[] {
  const select = t.view.map((v) => `${quote(v.physical)} AS ${quote(v.logical)}`).join(', ');
  const view = `${qVersionSchema}.${quote(t.name)}`;
  const sql = [
    `CREATE VIEW ${view} WITH (security_invoker = true) AS SELECT ${select} FROM ${qualifiedTable}`,
  ];
  // Views do not inherit defaults (serial keys, timestamps): copy them so inserts keep working.
  for (const v of t.view) {
    const def = t.physical.get(v.physical)?.default;
    if (def) sql.push(`ALTER VIEW ${view} ALTER COLUMN ${quote(v.logical)} SET DEFAULT (${def})`);
  }
  return sql;
}

export type { ColumnInfo };
