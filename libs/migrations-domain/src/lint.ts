import type { MigrationPlan } from './plan';

export type LintRule =
  | 'adding-required-field'
  | 'adding-field-with-volatile-default'
  | 'changing-column-type'
  | 'ban-drop-column'
  | 'drop-column-still-read'
  | 'ban-drop-table'
  | 'require-concurrent-index-creation'
  | 'require-concurrent-index-deletion'
  | 'ban-concurrent-index-creation-in-transaction'
  | 'constraint-missing-not-valid'
  | 'disallowed-unique-constraint'
  | 'adding-not-nullable-field'
  | 'renaming-column'
  | 'renaming-table'
  | 'require-lock-timeout';

export interface LintFinding {
  rule: LintRule;
  severity: 'error' | 'warning';
  /** 1-based statement number in a SQL file, or the operation field in a plan. */
  where: string;
  message: string;
  fix: string;
}

/** What lint knows about the fleet: the application versions live now and what each reads. */
export interface LintContext {
  liveVersions?: string[];
  reads?: Record<string, string[]>;
}

/**
 * Plans are safe by construction (the compiler emits expand/contract SQL), except for one thing
 * it cannot see alone: a live application version that reads what the plan removes but is not
 * listed as old, so contract would not wait for it.
 */
export function lintPlan(plan: MigrationPlan, context: LintContext = {}): LintFinding[] {
  const findings: LintFinding[] = [];
  const reads = { ...plan.reads, ...(context.reads ?? {}) };
  const live = context.liveVersions ?? [];
  plan.operations.forEach((op, i) => {
    const removed: string[] = [];
    if (
      op.op === 'dropColumn' ||
      op.op === 'changeType' ||
      op.op === 'setNotNull' ||
      op.op === 'splitColumn'
    )
      removed.push(`${op.table}.${op.column}`);
    if (op.op === 'renameColumn') removed.push(`${op.table}.${op.from}`);
    if (op.op === 'mergeColumns') removed.push(...op.columns.map((c) => `${op.table}.${c}`));
    for (const column of removed) {
      for (const [version, list] of Object.entries(reads)) {
        if (!list.includes(column)) continue;
        if (plan.versions.new.includes(version) && op.op === 'dropColumn') {
          findings.push({
            rule: 'drop-column-still-read',
            severity: 'error',
            where: `operations[${i}]`,
            message: `drops ${column}, which new version ${version} still reads`,
            fix: `stop reading ${column} in ${version} first, then drop it in a later migration`,
          });
        } else if (
          !plan.versions.old.includes(version) &&
          !plan.versions.new.includes(version) &&
          live.includes(version)
        ) {
          findings.push({
            rule: 'drop-column-still-read',
            severity: 'error',
            where: `operations[${i}]`,
            message: `removes ${column}, which live version ${version} reads, but ${version} is not in versions.old: contract would not wait for it`,
            fix: `add ${version} to versions.old`,
          });
        }
      }
    }
  });
  return findings;
}

/** Splits SQL into statements, keeping quoted text, dollar-quoted bodies and comments intact. */
export function splitStatements(sql: string): { text: string; line: number }[] {
  const out: { text: string; line: number }[] = [];
  let start = 0;
  let i = 0;
  while (i < sql.length) {
    const ch = sql[i]!;
    if (ch === "'" || ch === '"') {
      const end = sql.indexOf(ch, i + 1);
      i = end < 0 ? sql.length : end + 1;
    } else if (ch === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      i = end < 0 ? sql.length : end + 1;
    } else if (ch === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      i = end < 0 ? sql.length : end + 2;
    } else if (ch === '$') {
      const tag = /^\$[a-zA-Z_]*\$/.exec(sql.slice(i));
      if (tag) {
        const end = sql.indexOf(tag[0], i + tag[0].length);
        i = end < 0 ? sql.length : end + tag[0].length;
      } else i++;
    } else if (ch === ';') {
      push(start, i);
      start = i + 1;
      i++;
    } else i++;
  }
  push(start, sql.length);
  return out;

  function push(from: number, to: number) {
    const raw = sql.slice(from, to);
    const text = raw
      .replace(/--[^\n]*/g, '')
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .trim();
    if (text.length === 0) return;
    const lead = raw.length - raw.trimStart().length;
    out.push({ text, line: sql.slice(0, from + lead).split('\n').length });
  }
}

const VOLATILE =
  /\b(clock_timestamp|random|gen_random_uuid|uuid_generate_v4|timeofday|nextval)\s*\(/i;

/**
 * Squawk-style checks of raw SQL: each unsafe statement with why and the safe alternative.
 * Text-based (no full parser): it reads the statement shapes that matter for locking.
 */
export function lintSql(sql: string, context: LintContext = {}): LintFinding[] {
  const findings: LintFinding[] = [];
  const statements = splitStatements(sql);
  const createdHere = new Set<string>();
  let inTransaction = false;
  let lockTimeoutSet = false;
  const liveReads = new Map<string, string>();
  for (const version of context.liveVersions ?? [])
    for (const column of context.reads?.[version] ?? []) liveReads.set(column, version);

  statements.forEach(({ text, line }, index) => {
    const where = `statement ${index + 1} (line ${line})`;
    const add = (rule: LintRule, severity: LintFinding['severity'], message: string, fix: string) =>
      findings.push({ rule, severity, where, message, fix });
    const s = text.replace(/\s+/g, ' ');
    const upper = s.toUpperCase();
    if (/^(BEGIN|START TRANSACTION)\b/.test(upper)) inTransaction = true;
    if (/^(COMMIT|END|ROLLBACK)\b/.test(upper)) inTransaction = false;
    if (/^SET (LOCAL )?LOCK_TIMEOUT\b/.test(upper)) lockTimeoutSet = true;

    const created = /^CREATE (?:UNLOGGED )?TABLE (?:IF NOT EXISTS )?([\w".]+)/i.exec(s);
    if (created) createdHere.add(bare(created[1]!));
    const altered = /^ALTER TABLE (?:ONLY )?(?:IF EXISTS )?([\w".]+)/i.exec(s);
    const table = altered ? bare(altered[1]!) : undefined;
    const fresh = table !== undefined && createdHere.has(table);

    if (altered && !fresh && !lockTimeoutSet)
      add(
        'require-lock-timeout',
        'warning',
        `ALTER TABLE ${table} without a lock_timeout: while it waits for its lock, every later query on the table waits behind it`,
        "SET lock_timeout = '1s' first and retry on timeout (rollgate's executor does both)",
      );

    if (altered && !fresh) {
      for (const m of s.matchAll(/ADD (?:COLUMN )?(?:IF NOT EXISTS )?("?[\w]+"?) ([^,]*)/gi)) {
        const rest = m[2]!.toUpperCase();
        if (/^(CONSTRAINT|CHECK|FOREIGN|UNIQUE|PRIMARY)\b/.test(m[1]!.toUpperCase())) continue;
        if (/\bNOT NULL\b/.test(rest) && !/\bDEFAULT\b/.test(rest))
          add(
            'adding-required-field',
            'error',
            `adds NOT NULL column ${bare(m[1]!)} without a default: fails on a table with rows, and the old version's inserts fail`,
            'add it nullable (or with a default), backfill, then CHECK (col IS NOT NULL) NOT VALID, VALIDATE, SET NOT NULL — or use an addColumn plan with up',
          );
        if (/\bDEFAULT\b/.test(rest) && VOLATILE.test(m[2]!))
          add(
            'adding-field-with-volatile-default',
            'error',
            `adds column ${bare(m[1]!)} with a volatile default: rewrites the whole table under ACCESS EXCLUSIVE`,
            'add it without a default, backfill in batches, then set the default',
          );
      }
      if (/ALTER (?:COLUMN )?[\w"]+ (?:SET DATA )?TYPE\b/i.test(s))
        add(
          'changing-column-type',
          'error',
          `changes a column type of ${table} in place: rewrites the table under ACCESS EXCLUSIVE and breaks readers that expect the old type`,
          'use a changeType plan: a new column, dual-write triggers from up/down, backfill, then contract',
        );
      if (/ALTER (?:COLUMN )?[\w"]+ SET NOT NULL/i.test(s))
        add(
          'adding-not-nullable-field',
          'warning',
          `SET NOT NULL on ${table} scans the whole table under ACCESS EXCLUSIVE, and the old version may still write NULL`,
          'CHECK (col IS NOT NULL) NOT VALID, VALIDATE CONSTRAINT, then SET NOT NULL (no scan on PG12+) — or a setNotNull plan',
        );
      for (const m of s.matchAll(/DROP COLUMN (?:IF EXISTS )?("?[\w]+"?)/gi)) {
        const column = `${table}.${bare(m[1]!)}`;
        const reader = liveReads.get(column);
        add(
          reader ? 'drop-column-still-read' : 'ban-drop-column',
          'error',
          reader
            ? `drops ${column}, which live version ${reader} still reads`
            : `drops ${column}: any live version still reading it breaks, and code rollback cannot bring it back`,
          'use a dropColumn plan: the new version stops seeing it at expand, the drop waits for contract once no old version is live',
        );
      }
      if (/ADD (?:CONSTRAINT [\w"]+ )?(CHECK|FOREIGN KEY)\b/i.test(s) && !/NOT VALID/i.test(s))
        add(
          'constraint-missing-not-valid',
          'error',
          `adds a constraint to ${table} without NOT VALID: scans the table while holding a lock that blocks writes`,
          'ADD CONSTRAINT ... NOT VALID, then VALIDATE CONSTRAINT in a separate transaction',
        );
      if (
        /ADD (?:CONSTRAINT [\w"]+ )?REFERENCES\b|ADD COLUMN [\w"]+ [^,]* REFERENCES\b/i.test(s) &&
        !/NOT VALID/i.test(s)
      )
        add(
          'constraint-missing-not-valid',
          'error',
          `adds a foreign key on ${table} without NOT VALID: locks both tables during the scan`,
          'ADD CONSTRAINT ... FOREIGN KEY ... NOT VALID, then VALIDATE CONSTRAINT',
        );
      if (/ADD (?:CONSTRAINT [\w"]+ )?UNIQUE\b/i.test(s) && !/USING INDEX/i.test(s))
        add(
          'disallowed-unique-constraint',
          'error',
          `adds a UNIQUE constraint to ${table}: builds its index under ACCESS EXCLUSIVE`,
          'CREATE UNIQUE INDEX CONCURRENTLY, then ADD CONSTRAINT ... UNIQUE USING INDEX',
        );
      if (/RENAME COLUMN\b|RENAME [\w"]+ TO\b/i.test(s) && !/RENAME TO\b/i.test(s))
        add(
          'renaming-column',
          'error',
          `renames a column of ${table}: the old version, still live during the deploy, breaks on the next query`,
          'use a renameColumn plan: the new version sees the new name through its version schema until contract',
        );
      else if (/RENAME TO\b/i.test(s))
        add(
          'renaming-table',
          'error',
          `renames table ${table}: the old version breaks`,
          'create the new table, dual-write, backfill, switch readers, then drop',
        );
    }

    const createIndex =
      /^CREATE (UNIQUE )?INDEX (CONCURRENTLY )?(?:IF NOT EXISTS )?(?:[\w"]+ )?ON (?:ONLY )?([\w".]+)/i.exec(
        s,
      );
    if (createIndex) {
      const target = bare(createIndex[3]!);
      if (!createIndex[2] && !createdHere.has(target))
        add(
          'require-concurrent-index-creation',
          'error',
          `CREATE INDEX on ${target} without CONCURRENTLY blocks writes for the whole build`,
          'CREATE INDEX CONCURRENTLY (outside a transaction)',
        );
      if (createIndex[2] && inTransaction)
        add(
          'ban-concurrent-index-creation-in-transaction',
          'error',
          'CREATE INDEX CONCURRENTLY inside a transaction block fails',
          'run it as its own statement outside BEGIN/COMMIT',
        );
    }
    if (/^DROP INDEX\b/i.test(s) && !/^DROP INDEX CONCURRENTLY\b/i.test(s))
      add(
        'require-concurrent-index-deletion',
        'error',
        'DROP INDEX without CONCURRENTLY takes ACCESS EXCLUSIVE on the table',
        'DROP INDEX CONCURRENTLY',
      );
    const droppedTable = /^DROP TABLE (?:IF EXISTS )?([\w".]+)/i.exec(s);
    if (droppedTable && !createdHere.has(bare(droppedTable[1]!)))
      add(
        'ban-drop-table',
        'error',
        `drops table ${bare(droppedTable[1]!)}: any live version still using it breaks`,
        'use a dropTable plan: hidden from the new version at expand, dropped at contract',
      );
  });
  return findings;
}

/** `"public"."users"` → `users` (the table name without schema or quotes). */
function bare(name: string): string {
  const parts = name.split('.');
  return parts[parts.length - 1]!.replace(/"/g, '').toLowerCase();
}
