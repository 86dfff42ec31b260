import { parse as parseYaml } from 'yaml';
import { expressionProblem, parseTypeName } from './sql-safety';

/** A column as a plan declares it. Types come from the type grammar (sql-safety.ts), spelled canonically. */
export interface ColumnDef {
  name: string;
  type: string;
  /** Default true: a new column accepts NULL unless said otherwise. */
  nullable?: boolean;
  /** An expression of the expression language (sql-safety.ts). */
  default?: string;
  primaryKey?: boolean;
}

export type Operation =
  | { op: 'createTable'; table: string; columns: ColumnDef[] }
  | { op: 'addColumn'; table: string; column: ColumnDef; up?: string }
  | { op: 'renameColumn'; table: string; from: string; to: string }
  | { op: 'changeType'; table: string; column: string; type: string; up: string; down: string }
  | { op: 'setNotNull'; table: string; column: string; up: string }
  | {
      op: 'splitColumn';
      table: string;
      column: string;
      into: { name: string; type: string; up: string }[];
      down: string;
    }
  | {
      op: 'mergeColumns';
      table: string;
      columns: string[];
      into: { name: string; type: string; up: string };
      down: Record<string, string>;
    }
  | { op: 'createIndex'; table: string; name: string; columns: string[]; unique?: boolean }
  | { op: 'dropIndex'; name: string }
  | {
      op: 'addForeignKey';
      table: string;
      name: string;
      columns: string[];
      references: { table: string; columns: string[] };
      onDelete?: 'no action' | 'restrict' | 'cascade' | 'set null';
    }
  | { op: 'addCheck'; table: string; name: string; expression: string }
  | { op: 'addUnique'; table: string; name: string; columns: string[] }
  | { op: 'dropColumn'; table: string; column: string; down?: string }
  | { op: 'dropTable'; table: string };

export type OperationKind = Operation['op'];

export const OPERATION_KINDS: readonly OperationKind[] = [
  'createTable',
  'addColumn',
  'renameColumn',
  'changeType',
  'setNotNull',
  'splitColumn',
  'mergeColumns',
  'createIndex',
  'dropIndex',
  'addForeignKey',
  'addCheck',
  'addUnique',
  'dropColumn',
  'dropTable',
];

/**
 * A declarative migration of one PostgreSQL schema. `versions` records which application
 * versions need the schema before (old) and after (new): contract waits until no old one is live.
 */
export interface MigrationPlan {
  /** Unique per target schema; names the version schema the new application selects. */
  name: string;
  /** The application service whose live instances gate contract. */
  service: string;
  /** Physical schema holding the tables; default `public`. */
  schema: string;
  versions: { old: string[]; new: string[] };
  /** Optional: columns (`table.column`) each application version reads. */
  reads: Record<string, string[]>;
  /** `on-command` (default) or `automatic`: contract runs as soon as no old version is live. */
  contract: 'on-command' | 'automatic';
  /** Roll this migration back (before contract) when a release of a new version is rolled back. */
  rollbackWithRelease: boolean;
  /**
   * `dutyCycle` (0.05-1, default 1): the share of time the backfill may keep the database busy;
   * after a batch that took d ms it waits at least d·(1-dutyCycle)/dutyCycle, so it slows down by
   * itself when the database is loaded. `pauseMs` is a fixed minimum wait between batches.
   */
  backfill: { batchSize: number; pauseMs: number; dutyCycle: number };
  operations: Operation[];
}

/** A problem with a plan, naming the field (JSON-path-like: `operations[1].up`). */
export interface PlanProblem {
  field: string;
  message: string;
}

export type PlanResult = { ok: true; plan: MigrationPlan } | { ok: false; problems: PlanProblem[] };

export const DEFAULT_BACKFILL = { batchSize: 1000, pauseMs: 0, dutyCycle: 1 } as const;

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;
const NAME = /^[a-z0-9_]{1,40}$/;
const SERVICE = /^[a-z][a-z0-9-]{0,62}$/;

/** Reads a plan written as JSON or YAML (YAML is a superset, so one parser reads both). */
export function parsePlanText(text: string): PlanResult {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    return {
      ok: false,
      problems: [
        { field: '(file)', message: `not valid JSON or YAML: ${(error as Error).message}` },
      ],
    };
  }
  return parsePlan(raw);
}

type Raw = Record<string, unknown>;
const isObject = (value: unknown): value is Raw =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Checks the shape of a plan and fills defaults; every problem names its field. */
export function parsePlan(raw: unknown): PlanResult {
  const problems: PlanProblem[] = [];
  const fail = (field: string, message: string) => problems.push({ field, message });
  if (!isObject(raw))
    return { ok: false, problems: [{ field: '(plan)', message: 'must be an object' }] };

  const known = [
    'rollbackWithRelease',
    'name',
    'service',
    'schema',
    'versions',
    'reads',
    'contract',
    'backfill',
    'operations',
  ];
  for (const key of Object.keys(raw)) if (!known.includes(key)) fail(key, 'is not a plan field');

  const name = str(raw, 'name', '', fail, true);
  if (name !== undefined && !NAME.test(name))
    fail('name', 'must be 1-40 characters of a-z, 0-9 and _');
  const service = str(raw, 'service', '', fail, true);
  if (service !== undefined && !SERVICE.test(service))
    fail('service', 'must be a service name (lowercase letters, digits, -)');
  const schema = str(raw, 'schema', '', fail, false) ?? 'public';
  if (!IDENTIFIER.test(schema)) fail('schema', 'must be a lowercase SQL identifier');

  const versions = { old: [] as string[], new: [] as string[] };
  if (!isObject(raw['versions'])) fail('versions', 'is required: { old: [...], new: [...] }');
  else {
    for (const side of ['old', 'new'] as const) {
      const list = raw['versions'][side];
      if (
        !Array.isArray(list) ||
        list.length === 0 ||
        !list.every((v) => typeof v === 'string' && v.length > 0)
      )
        fail(`versions.${side}`, 'must be a non-empty list of application versions');
      else versions[side] = list as string[];
    }
    const both = versions.old.filter((v) => versions.new.includes(v));
    if (both.length > 0)
      fail(
        'versions',
        `version ${both.join(', ')} is both old and new: one release cannot need the schema before and after, ` +
          'so expand and contract would ship in one step. Ship expand with one release and contract after the next.',
      );
  }

  const reads: Record<string, string[]> = {};
  if (raw['reads'] !== undefined) {
    if (!isObject(raw['reads']))
      fail('reads', 'must map an application version to a list of table.column');
    else
      for (const [version, list] of Object.entries(raw['reads'])) {
        if (
          !Array.isArray(list) ||
          !list.every(
            (c) => typeof c === 'string' && /^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$/.test(c),
          )
        )
          fail(`reads.${version}`, 'must be a list of table.column');
        else reads[version] = list as string[];
      }
  }

  let contract: MigrationPlan['contract'] = 'on-command';
  if (raw['contract'] !== undefined) {
    if (raw['contract'] === 'with-expand' || raw['contract'] === 'immediately')
      fail(
        'contract',
        'expand and contract are always separate releases: the release that expands still runs the old ' +
          'application version, which crashes once contract removes what it reads (a deploy rollback cannot ' +
          'bring a dropped column back). Use on-command or automatic: contract then waits until no old version is live.',
      );
    else if (raw['contract'] !== 'on-command' && raw['contract'] !== 'automatic')
      fail('contract', 'must be on-command or automatic');
    else contract = raw['contract'];
  }

  let rollbackWithRelease = false;
  if (raw['rollbackWithRelease'] !== undefined) {
    if (typeof raw['rollbackWithRelease'] !== 'boolean')
      fail('rollbackWithRelease', 'must be true or false');
    else rollbackWithRelease = raw['rollbackWithRelease'];
  }

  const backfill: MigrationPlan['backfill'] = { ...DEFAULT_BACKFILL };
  if (raw['backfill'] !== undefined) {
    const b = raw['backfill'];
    if (!isObject(b)) fail('backfill', 'must be { batchSize, pauseMs, dutyCycle }');
    else {
      const integerIn = (key: 'batchSize' | 'pauseMs', min: number, max: number) => {
        const value = b[key];
        if (value === undefined) return;
        if (!Number.isInteger(value) || (value as number) < min || (value as number) > max)
          fail(`backfill.${key}`, `must be an integer from ${min} to ${max}`);
        else backfill[key] = value as number;
      };
      integerIn('batchSize', 1, 100_000);
      integerIn('pauseMs', 0, 60_000);
      if (b['dutyCycle'] !== undefined) {
        const d = b['dutyCycle'];
        if (typeof d !== 'number' || d < 0.05 || d > 1)
          fail('backfill.dutyCycle', 'must be a number from 0.05 to 1');
        else backfill.dutyCycle = d;
      }
      for (const key of Object.keys(b))
        if (!['batchSize', 'pauseMs', 'dutyCycle'].includes(key))
          fail(`backfill.${key}`, 'is not a backfill field');
    }
  }

  const operations: Operation[] = [];
  if (!Array.isArray(raw['operations']) || raw['operations'].length === 0)
    fail('operations', 'must be a non-empty list');
  else
    raw['operations'].forEach((entry, index) => {
      const op = parseOperation(entry, `operations[${index}]`, fail);
      if (op) operations.push(op);
    });

  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    plan: {
      name: name!,
      service: service!,
      schema,
      versions,
      reads,
      contract,
      rollbackWithRelease,
      backfill,
      operations,
    },
  };
}

type Fail = (field: string, message: string) => void;

function str(
  raw: Raw,
  key: string,
  prefix: string,
  fail: Fail,
  required: boolean,
): string | undefined {
  const value = raw[key];
  const field = prefix ? `${prefix}.${key}` : key;
  if (value === undefined) {
    if (required) fail(field, 'is required');
    return undefined;
  }
  if (typeof value !== 'string' || value.trim().length === 0) {
    fail(field, 'must be a non-empty string');
    return undefined;
  }
  return value;
}

function ident(raw: Raw, key: string, prefix: string, fail: Fail): string | undefined {
  const value = str(raw, key, prefix, fail, true);
  if (value !== undefined && !IDENTIFIER.test(value)) {
    fail(
      `${prefix}.${key}`,
      `'${value}' is not a lowercase SQL identifier (a-z, 0-9, _; at most 63)`,
    );
    return undefined;
  }
  return value;
}

function typeName(raw: Raw, key: string, prefix: string, fail: Fail): string | undefined {
  const value = str(raw, key, prefix, fail, true);
  if (value === undefined) return undefined;
  const parsed = parseTypeName(value);
  if (!parsed.ok) {
    fail(`${prefix}.${key}`, `is not an allowed type: ${parsed.problem}`);
    return undefined;
  }
  return parsed.type;
}

function identList(raw: Raw, key: string, prefix: string, fail: Fail): string[] | undefined {
  const value = raw[key];
  if (!Array.isArray(value) || value.length === 0) {
    fail(`${prefix}.${key}`, 'must be a non-empty list of column names');
    return undefined;
  }
  const bad = value.findIndex((v) => typeof v !== 'string' || !IDENTIFIER.test(v));
  if (bad >= 0) {
    fail(`${prefix}.${key}[${bad}]`, 'is not a lowercase SQL identifier');
    return undefined;
  }
  return value as string[];
}

function columnDef(value: unknown, prefix: string, fail: Fail): ColumnDef | undefined {
  if (!isObject(value)) {
    fail(prefix, 'must be { name, type, nullable?, default? }');
    return undefined;
  }
  const name = ident(value, 'name', prefix, fail);
  const type = typeName(value, 'type', prefix, fail);
  const def: ColumnDef = { name: name!, type: type! };
  if (value['nullable'] !== undefined) {
    if (typeof value['nullable'] !== 'boolean') fail(`${prefix}.nullable`, 'must be true or false');
    else def.nullable = value['nullable'];
  }
  if (value['primaryKey'] !== undefined) {
    if (typeof value['primaryKey'] !== 'boolean')
      fail(`${prefix}.primaryKey`, 'must be true or false');
    else def.primaryKey = value['primaryKey'];
  }
  if (value['default'] !== undefined) {
    const d = value['default'];
    const text = typeof d === 'number' || typeof d === 'boolean' ? String(d) : d;
    const problem = typeof text === 'string' ? expressionProblem(text) : 'must be an expression';
    if (problem) fail(`${prefix}.default`, problem);
    else def.default = (text as string).trim();
  }
  return name && type ? def : undefined;
}

/** Expressions reach SQL: only the expression language of sql-safety.ts passes. */
function expression(
  raw: Raw,
  key: string,
  prefix: string,
  fail: Fail,
  required: boolean,
): string | undefined {
  const value = raw[key];
  const field = `${prefix}.${key}`;
  if (value === undefined) {
    if (required) fail(field, 'is required: a SQL expression over the row');
    return undefined;
  }
  if (typeof value !== 'string' || value.trim().length === 0) {
    fail(field, 'must be a SQL expression');
    return undefined;
  }
  const problem = expressionProblem(value);
  if (problem) {
    fail(field, problem);
    return undefined;
  }
  return value.trim();
}

/** A new column computed from old ones: `{ name, type, up }` (split and merge targets). */
function derivedColumn(
  raw: unknown,
  prefix: string,
  fail: Fail,
): { name: string; type: string; up: string } | undefined {
  if (!isObject(raw)) {
    fail(prefix, 'must be { name, type, up }');
    return undefined;
  }
  return {
    name: ident(raw, 'name', prefix, fail)!,
    type: typeName(raw, 'type', prefix, fail)!,
    up: expression(raw, 'up', prefix, fail, true)!,
  };
}

function parseOperation(entry: unknown, prefix: string, fail: Fail): Operation | undefined {
  if (!isObject(entry)) {
    fail(prefix, 'must be an object with an `op` field');
    return undefined;
  }
  const kind = entry['op'];
  if (typeof kind !== 'string' || !(OPERATION_KINDS as readonly string[]).includes(kind)) {
    fail(`${prefix}.op`, `must be one of ${OPERATION_KINDS.join(', ')}`);
    return undefined;
  }
  let count = 0;
  const counting: Fail = (field, message) => {
    count++;
    fail(field, message);
  };
  const op = buildOperation(kind as OperationKind, entry, prefix, counting);
  return count === 0 ? op : undefined;
}

function buildOperation(kind: OperationKind, e: Raw, p: string, fail: Fail): Operation | undefined {
  const table = () => ident(e, 'table', p, fail)!;
  switch (kind) {
    case 'createTable': {
      const t = table();
      if (!Array.isArray(e['columns']) || e['columns'].length === 0) {
        fail(`${p}.columns`, 'must be a non-empty list of columns');
        return undefined;
      }
      const columns = e['columns'].map((c, i) => columnDef(c, `${p}.columns[${i}]`, fail)!);
      if (!columns.some((c) => c?.primaryKey))
        fail(`${p}.columns`, 'one column must be the primary key (primaryKey: true)');
      return { op: kind, table: t, columns };
    }
    case 'addColumn': {
      const t = table();
      const column = columnDef(e['column'], `${p}.column`, fail)!;
      const up = expression(e, 'up', p, fail, false);
      return { op: kind, table: t, column, ...(up ? { up } : {}) };
    }
    case 'renameColumn':
      return {
        op: kind,
        table: table(),
        from: ident(e, 'from', p, fail)!,
        to: ident(e, 'to', p, fail)!,
      };
    case 'changeType':
      return {
        op: kind,
        table: table(),
        column: ident(e, 'column', p, fail)!,
        type: typeName(e, 'type', p, fail)!,
        up: expression(e, 'up', p, fail, true)!,
        down: expression(e, 'down', p, fail, true)!,
      };
    case 'setNotNull':
      return {
        op: kind,
        table: table(),
        column: ident(e, 'column', p, fail)!,
        up: expression(e, 'up', p, fail, true)!,
      };
    case 'splitColumn': {
      const t = table();
      const column = ident(e, 'column', p, fail)!;
      if (!Array.isArray(e['into']) || e['into'].length < 2) {
        fail(`${p}.into`, 'must list at least two new columns { name, type, up }');
        return undefined;
      }
      const into = e['into'].map(
        (c, i) => derivedColumn(c, `${p}.into[${i}]`, fail) ?? { name: '', type: '', up: '' },
      );
      return { op: kind, table: t, column, into, down: expression(e, 'down', p, fail, true)! };
    }
    case 'mergeColumns': {
      const t = table();
      const columns = identList(e, 'columns', p, fail)!;
      const into = derivedColumn(e['into'], `${p}.into`, fail);
      if (!into) return undefined;
      const downRaw = e['down'];
      const down: Record<string, string> = {};
      if (!isObject(downRaw)) fail(`${p}.down`, 'must map each merged column to a SQL expression');
      else
        for (const c of columns ?? []) {
          const d = expression(downRaw, c, `${p}.down`, fail, true);
          if (d) down[c] = d;
        }
      return { op: kind, table: t, columns, into, down };
    }
    case 'createIndex':
      if (e['unique'] !== undefined && typeof e['unique'] !== 'boolean')
        fail(`${p}.unique`, 'must be true or false');
      return {
        op: kind,
        table: table(),
        name: ident(e, 'name', p, fail)!,
        columns: identList(e, 'columns', p, fail)!,
        ...(e['unique'] === true ? { unique: true } : {}),
      };
    case 'dropIndex':
      return { op: kind, name: ident(e, 'name', p, fail)! };
    case 'addForeignKey': {
      const t = table();
      const name = ident(e, 'name', p, fail)!;
      const columns = identList(e, 'columns', p, fail)!;
      const r = e['references'];
      if (!isObject(r)) {
        fail(`${p}.references`, 'must be { table, columns }');
        return undefined;
      }
      const references = {
        table: ident(r, 'table', `${p}.references`, fail)!,
        columns: identList(r, 'columns', `${p}.references`, fail)!,
      };
      if (columns && references.columns && columns.length !== references.columns.length)
        fail(`${p}.references.columns`, `must list as many columns as ${p}.columns`);
      const onDelete = e['onDelete'];
      if (
        onDelete !== undefined &&
        !['no action', 'restrict', 'cascade', 'set null'].includes(onDelete as string)
      )
        fail(`${p}.onDelete`, 'must be no action, restrict, cascade or set null');
      return {
        op: kind,
        table: t,
        name,
        columns,
        references,
        ...(onDelete ? { onDelete: onDelete as 'cascade' } : {}),
      };
    }
    case 'addCheck':
      return {
        op: kind,
        table: table(),
        name: ident(e, 'name', p, fail)!,
        expression: expression(e, 'expression', p, fail, true)!,
      };
    case 'addUnique':
      return {
        op: kind,
        table: table(),
        name: ident(e, 'name', p, fail)!,
        columns: identList(e, 'columns', p, fail)!,
      };
    case 'dropColumn': {
      const down = expression(e, 'down', p, fail, false);
      return {
        op: kind,
        table: table(),
        column: ident(e, 'column', p, fail)!,
        ...(down ? { down } : {}),
      };
    }
    case 'dropTable':
      return { op: kind, table: table() };
  }
}
