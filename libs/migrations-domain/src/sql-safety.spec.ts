import fc from 'fast-check';
import {
  compilePlan,
  databaseProblem,
  expressionProblem,
  parsePlan,
  parseTypeName,
  schemaProblems,
  statementProblem,
  type SchemaSnapshot,
} from './index';

const base = { name: 'm1', service: 'accounts', versions: { old: ['1'], new: ['2'] } };

const snapshot: SchemaSnapshot = {
  schema: 'public',
  tables: [
    {
      name: 'users',
      primaryKey: ['id'],
      columns: [
        { name: 'id', type: 'bigint', nullable: false, default: null },
        { name: 'amount', type: 'text', nullable: true, default: null },
      ],
    },
  ],
  indexes: [],
  constraints: [],
};

/** The plan's operations parsed and compiled: every statement of every phase. */
function compiledSql(operations: unknown[]): string[] {
  const parsed = parsePlan({ ...base, operations });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  const compiled = compilePlan(parsed.plan, snapshot);
  if (!compiled.ok) throw new Error(JSON.stringify(compiled.problems));
  return Object.values(compiled.program)
    .filter(Array.isArray)
    .flat()
    .flatMap((step) => ('sql' in step ? (step.sql as string[]) : []));
}

const ACCEPTED = [
  'amount::integer',
  "coalesce(amount, '0')",
  "split_part(full_name, ' ', 1)",
  "first_name || ' ' || last_name",
  "'free'",
  "'it''s; DROP TABLE victim; --'",
  'NULL',
  "email <> ''",
  'amount > 0 AND amount <= 100',
  'NOT (a IS NULL) OR b IS NOT DISTINCT FROM c',
  "CASE WHEN amount > 0 THEN 'paid' ELSE 'free' END",
  "CASE tier WHEN 'a' THEN 1 WHEN 'b' THEN 2 END",
  'CAST(total AS numeric(10,2))',
  'a BETWEEN 1 AND 2',
  "a NOT IN (1, 2, 3) AND lower(email) LIKE '%@example.com'",
  'a=-1',
  '-amount * 2.5e3 % 7',
  'now()',
  'current_timestamp',
  'gen_random_uuid()',
  'tags::text[]',
  "jsonb_build_object('k', amount)",
  '42',
  'true',
];

/** Each attempt, and what the refusal must say. */
const INJECTIONS: [string, RegExp][] = [
  ["'x'; DROP TABLE victim; SELECT 'y'", /statement separator ;/],
  ['amount::integer; DROP TABLE victim', /statement separator ;/],
  ['1) ; DROP TABLE victim; SELECT (1', /statement separator ;/],
  ['1 -- trailing comment', /comments are not allowed/],
  ['1--1', /comments are not allowed/],
  ['1 /* DROP */', /comments are not allowed/],
  ['$$; DROP TABLE victim; $$', /\$ \(dollar quotes/],
  ["'a' $rg$; DROP TABLE victim; $rg$", /\$ \(dollar quotes/],
  ['$1', /\$ \(dollar quotes/],
  ['x$y', /\$ \(dollar quotes/],
  ["'unbalanced", /unterminated string literal/],
  ["'a'' ; DROP TABLE victim", /unterminated string literal/],
  ['pg_sleep(10)', /function pg_sleep is not allowed/],
  ['PG_SLEEP(10)', /function pg_sleep is not allowed/],
  ["pg_read_file('/etc/passwd')", /function pg_read_file is not allowed/],
  ["lo_import('/etc/passwd')", /function lo_import is not allowed/],
  ["set_config('search_path', 'evil', false)", /function set_config is not allowed/],
  ["current_setting('is_superuser')", /function current_setting is not allowed/],
  ["nextval('rollgate_orchestrator.seq')", /function nextval is not allowed/],
  ["dblink('host=evil', 'SELECT 1')", /function dblink is not allowed/],
  ["COPY victim TO '/tmp/out'", /keyword COPY is not allowed/],
  ['(SELECT count(*) FROM victim)', /keyword SELECT is not allowed/],
  ['EXISTS (SELECT 1)', /keyword EXISTS is not allowed/],
  ['select(1)', /keyword SELECT is not allowed/],
  ['current_user', /keyword CURRENT_USER is not allowed/],
  ["E'\\x27; DROP TABLE victim; --'", /prefixed string literals/],
  ["e'\\''", /prefixed string literals/],
  ["U&'\\0027; DROP TABLE victim'", /operator & is not allowed/],
  ["X'27'", /prefixed string literals/],
  ["date '2020-01-01'", /expected the end/],
  ['"victim"', /quoted identifiers are not allowed/],
  ['pg_catalog.pg_sleep(1)', /character '\.' is not allowed/],
  ['amount\\', /backslashes are not allowed/],
  ['1), (2', /expected the end/],
  ['lower(email', /expected '\)'/],
  ['(1', /expected '\)'/],
  ["'a' 'b'", /expected the end/],
  ['CASE WHEN true THEN 1', /expected 'end'/],
  ['1abc', /malformed number/],
  ['1.', /malformed number/],
  ['Amount', /column names are lowercase/],
  ['amount\u00a0', /character '\u00a0' is not allowed/],
  ["'x'::regclass", /expected a type/],
  ['a := 1', /character ':' is not allowed/],
  ['a ~ b', /operator ~ is not allowed/],
  ['a ||- 1', /operator \|\|- is not allowed/],
  ['', /expected a value/],
];

describe('expression language', () => {
  it.each(ACCEPTED)('accepts %s', (text) => {
    expect(expressionProblem(text)).toBeUndefined();
  });

  it.each(INJECTIONS)('refuses %s', (text, why) => {
    expect(expressionProblem(text)).toMatch(why);
  });

  /** Text that matters to SQL's lexer: separators, quotes, comment and dollar-quote openers. */
  const hostileText = fc
    .array(
      fc.constantFrom(';', "'", '"', '$$', '$rg$', '--', '/*', ')', '(', '\\', 'E', ' ', 'x'),
      {
        maxLength: 8,
      },
    )
    .map((parts) => parts.join(''));

  /** Expressions of the language, built from its grammar, with hostile text inside their literals. */
  const { expression } = fc.letrec<{ expression: string }>((tie) => ({
    expression: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.constantFrom('amount', 'email', 'NULL', 'true', '42', '2.5e3', 'now()'),
      hostileText.map((text) => `'${text.replace(/'/g, "''")}'`),
      fc
        .tuple(
          tie('expression'),
          fc.constantFrom('+', '||', '=', '<>', 'AND', 'OR'),
          tie('expression'),
        )
        .map(([l, op, r]) => `(${l} ${op} ${r})`),
      tie('expression').map((e) => `(${e})`),
      tie('expression').map((e) => `coalesce(${e}, '')`),
      tie('expression').map((e) => `${e}::text`),
      tie('expression').map((e) => `CASE WHEN ${e} IS NULL THEN 1 ELSE 2 END`),
    ),
  }));

  /** Every statement the compiler makes with `text` as a default, a check, and up and down. */
  const wrappers = (text: string) =>
    compiledSql([
      {
        op: 'addColumn',
        table: 'users',
        column: { name: 'c', type: 'text', default: text },
        up: text,
      },
      { op: 'addCheck', table: 'users', name: 'k', expression: text },
      { op: 'changeType', table: 'users', column: 'amount', type: 'text', up: text, down: text },
    ]);

  it('accepts what its grammar builds, and each stays one statement wherever the compiler puts it', () => {
    fc.assert(
      fc.property(expression, (text) => {
        expect(expressionProblem(text)).toBeUndefined();
        for (const sql of wrappers(text)) expect(statementProblem(sql)).toBeUndefined();
      }),
      { numRuns: 2000, seed: 11 },
    );
  });

  it('an expression with hostile text spliced in anywhere is refused, or still one statement', () => {
    let refused = 0;
    fc.assert(
      fc.property(expression, hostileText, fc.nat(), (text, splice, at) => {
        const i = at % (text.length + 1);
        const mutated = `${text.slice(0, i)}${splice}${text.slice(i)}`;
        if (expressionProblem(mutated) !== undefined) return void refused++;
        for (const sql of wrappers(mutated)) expect(statementProblem(sql)).toBeUndefined();
      }),
      { numRuns: 3000, seed: 14 },
    );
    expect(refused).toBeGreaterThan(1000);
  });

  it('refuses any accepted expression followed by a second statement or a comment', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...ACCEPTED),
        fc.constantFrom('; DROP TABLE victim', ' -- x', ' /* x */', ';SELECT pg_sleep(1)'),
        (text, tail) => expect(expressionProblem(`${text}${tail}`)).toBeDefined(),
      ),
      { seed: 12 },
    );
  });

  it('accepts any text as a quoted literal, and the literal never ends early', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (text) => {
        const literal = `'${text.replace(/'/g, "''")}'`;
        expect(expressionProblem(literal)).toBeUndefined();
        expect(statementProblem(`SELECT ${literal}`)).toBeUndefined();
      }),
      { seed: 13 },
    );
  });
});

describe('type grammar', () => {
  it.each([
    ['text', 'text'],
    ['VARCHAR( 255 )', 'varchar(255)'],
    ['numeric(10, 2)', 'numeric(10,2)'],
    ['Timestamp  With Time Zone', 'timestamp with time zone'],
    ['double precision', 'double precision'],
    ['text[]', 'text[]'],
    ['integer[][]', 'integer[][]'],
    ['timestamptz(3)', 'timestamptz(3)'],
  ])('reads %s as %s', (text, type) => {
    expect(parseTypeName(text)).toEqual({ ok: true, type });
  });

  it.each([
    ['text; DROP TABLE victim', /statement separator/],
    ['int) ; DROP TABLE victim; CREATE TABLE x (y int', /statement separator/],
    ['text -- x', /comments/],
    ['text COLLATE "C"', /quoted identifiers/],
    ['text collate c', /expected the end/],
    ['regclass', /expected a type/],
    ['my_enum', /expected a type/],
    ['pg_catalog.text', /character '\.'/],
    ['varchar(1, 2)', /at most 1 modifier/],
    ['numeric(10,2,3)', /at most 2 modifier/],
    ['text(5)', /at most 0 modifier/],
    ['varchar(-1)', /whole number/],
    ['text[', /expected '\]'/],
  ])('refuses %s', (text, why) => {
    const result = parseTypeName(text);
    expect(!result.ok && result.problem).toMatch(why);
  });
});

describe('one statement at a time', () => {
  it.each([
    'SELECT 1',
    "SELECT ';'",
    'SELECT ";" FROM t',
    "SELECT 'it''s; ok'",
    "SELECT E'\\'; still a string'",
    'SELECT $x$ a; b -- c $x$',
    'CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $rg$ BEGIN RETURN NEW; END $rg$',
    'SELECT a$b FROM t',
  ])('runs %s', (sql) => {
    expect(statementProblem(sql)).toBeUndefined();
  });

  it.each([
    ['SELECT 1; SELECT 2', /more than one statement/],
    ['SELECT 1;', /more than one statement/],
    ["SELECT 'x'; DROP TABLE victim; SELECT 'y'", /more than one statement/],
    ['SELECT 1 -- x', /comment/],
    ['SELECT /* x */ 1', /comment/],
    ["SELECT 'open", /unterminated string/],
    ['SELECT "open', /unterminated identifier/],
    ["SELECT E'\\'; DROP TABLE victim", /unterminated string/],
    ['SELECT $x$ open', /unterminated dollar quote/],
    ['SELECT $1', /\$ outside a dollar quote/],
  ])('refuses %s', (sql, why) => {
    expect(statementProblem(sql)).toMatch(why);
  });
});

describe('plans', () => {
  it('refuses an injected column default, naming the field', () => {
    const result = parsePlan({
      ...base,
      operations: [
        {
          op: 'addColumn',
          table: 'users',
          column: { name: 'c', type: 'text', default: "'x'; DROP TABLE victim; SELECT 'y'" },
        },
      ],
    });
    expect(!result.ok && result.problems).toEqual([
      {
        field: 'operations[0].column.default',
        message: expect.stringMatching(/statement separator ;/),
      },
    ]);
  });

  it('names every unsafe field of a plan: types, checks, up and down', () => {
    const result = parsePlan({
      ...base,
      operations: [
        { op: 'addColumn', table: 'users', column: { name: 'c', type: 'text; DROP TABLE victim' } },
        { op: 'addCheck', table: 'users', name: 'k', expression: 'pg_sleep(5) IS NULL' },
        {
          op: 'changeType',
          table: 'users',
          column: 'amount',
          type: 'integer',
          up: 'amount::integer -- x',
          down: "$$'$$",
        },
      ],
    });
    expect(!result.ok && result.problems.map((p) => p.field)).toEqual([
      'operations[0].column.type',
      'operations[1].expression',
      'operations[2].up',
      'operations[2].down',
    ]);
  });

  it('emits defaults in parentheses and canonical types, and every compiled statement is one statement', () => {
    const sql = compiledSql([
      {
        op: 'addColumn',
        table: 'users',
        column: { name: 'tier', type: 'VARCHAR(20)', default: "'a;b'" },
      },
      {
        op: 'changeType',
        table: 'users',
        column: 'amount',
        type: 'numeric(10, 2)',
        up: "coalesce(amount, '0')::numeric(10,2)",
        down: "amount::text || '$rg$'",
      },
      { op: 'addCheck', table: 'users', name: 'tier_known', expression: "tier IN ('a', 'b')" },
    ]);
    expect(sql).toContain(
      `ALTER TABLE "public"."users" ADD COLUMN "tier" varchar(20) DEFAULT ('a;b')`,
    );
    expect(sql).toContain(`ALTER TABLE "public"."users" ADD COLUMN "_rg_amount" numeric(10,2)`);
    expect(sql.length).toBeGreaterThan(10);
    expect(sql.find((statement) => statement.includes('FUNCTION'))).toMatch(
      /AS \$rg1\$\n[\s\S]*\n\$rg1\$$/,
    );
    expect(sql.filter((statement) => statementProblem(statement) !== undefined)).toEqual([]);
  });
});

describe('targets', () => {
  const policy = { databases: ['app', 'template1'], schemaPrefix: 'rollgate_' };

  it('allows only the listed databases, and never a template database', () => {
    expect(databaseProblem('app', policy)).toBeUndefined();
    expect(databaseProblem('template1', policy)).toMatch(/template database/);
    expect(databaseProblem('template0', policy)).toMatch(/template database/);
    expect(databaseProblem('other', policy)).toMatch(
      /not one migrations may touch \(ROLLGATE_MIGRATION_DATABASES: app, template1\)/,
    );
  });

  it.each([
    ['pg_catalog', 'PostgreSQL'],
    ['pg_toast', 'PostgreSQL'],
    ['pg_temp_3', 'PostgreSQL'],
    ['information_schema', 'PostgreSQL'],
    ['rollgate_orchestrator', 'Rollgate'],
    ['rollgate_migrations', 'Rollgate'],
  ])('refuses schema %s (it belongs to %s)', (schema, owner) => {
    expect(schemaProblems({ schema, name: 'm1' }, policy)).toEqual([
      { field: 'schema', message: `schema ${schema} belongs to ${owner}` },
    ]);
  });

  it("refuses a name whose version schema would be Rollgate's, and keeps the state schema under any prefix", () => {
    expect(schemaProblems({ schema: 'rollgate', name: 'flags' }, policy)).toEqual([
      { field: 'name', message: expect.stringMatching(/rollgate_flags .* schema of Rollgate/) },
    ]);
    expect(
      schemaProblems(
        { schema: 'rollgate_migrations', name: 'm' },
        { ...policy, schemaPrefix: 'rg_' },
      ),
    ).toEqual([{ field: 'schema', message: 'schema rollgate_migrations belongs to Rollgate' }]);
    expect(schemaProblems({ schema: 'public', name: 'm1' }, policy)).toEqual([]);
  });
});
