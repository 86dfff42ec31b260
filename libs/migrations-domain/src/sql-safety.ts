/**
 * What plan text may reach SQL (docs/adr/0009-migration-sql-safety.md). Names are plain identifiers
 * (quoted when emitted), types come from a fixed grammar, and expressions (defaults, checks, up and
 * down) from a small expression language: literals, column names, a few operators, allowlisted
 * functions, casts, CASE and parentheses. Anything else is refused with the reason, so a plan can
 * never carry a second statement, a comment, a dollar quote or a call like pg_sleep.
 */

/** Functions an expression may call: pure or harmless, no I/O, no settings, no sequences. */
export const EXPRESSION_FUNCTIONS: ReadonlySet<string> = new Set([
  'abs',
  'btrim',
  'ceil',
  'char_length',
  'coalesce',
  'concat',
  'concat_ws',
  'date_part',
  'date_trunc',
  'floor',
  'gen_random_uuid',
  'greatest',
  'initcap',
  'jsonb_build_object',
  'jsonb_extract_path_text',
  'least',
  'left',
  'length',
  'lower',
  'lpad',
  'ltrim',
  'md5',
  'mod',
  'now',
  'nullif',
  'replace',
  'right',
  'round',
  'rpad',
  'rtrim',
  'split_part',
  'starts_with',
  'strpos',
  'substr',
  'to_char',
  'to_date',
  'to_jsonb',
  'to_number',
  'to_timestamp',
  'trunc',
  'upper',
]);

/** Type names and how many modifiers each takes (`numeric(10,2)`: 2). Multi-word names spaced once. */
const TYPES: ReadonlyMap<string, number> = new Map([
  ...[
    'smallint',
    'integer',
    'int',
    'int2',
    'int4',
    'int8',
    'bigint',
    'real',
    'float4',
    'float8',
    'double precision',
    'boolean',
    'bool',
    'text',
    'date',
    'interval',
    'uuid',
    'json',
    'jsonb',
    'bytea',
    'inet',
    'cidr',
    'macaddr',
    'smallserial',
    'serial',
    'bigserial',
    'timestamp with time zone',
    'timestamp without time zone',
    'time with time zone',
    'time without time zone',
  ].map((name) => [name, 0] as const),
  ...['varchar', 'character varying', 'char', 'character', 'timestamp', 'timestamptz', 'time'].map(
    (name) => [name, 1] as const,
  ),
  ['numeric', 2],
  ['decimal', 2],
]);
const LONGEST_TYPE = Math.max(...[...TYPES.keys()].map((name) => name.split(' ').length));

/** Words that are never a column: SQL structure, and keywords PostgreSQL evaluates as functions. */
const RESERVED = new Set([
  'all',
  'and',
  'any',
  'array',
  'as',
  'asc',
  'between',
  'case',
  'cast',
  'collate',
  'copy',
  'create',
  'current_catalog',
  'current_role',
  'current_schema',
  'current_user',
  'default',
  'delete',
  'desc',
  'distinct',
  'do',
  'drop',
  'else',
  'end',
  'except',
  'exists',
  'false',
  'from',
  'grant',
  'ilike',
  'in',
  'insert',
  'intersect',
  'into',
  'is',
  'lateral',
  'like',
  'not',
  'null',
  'or',
  'returning',
  'row',
  'select',
  'session_user',
  'similar',
  'some',
  'system_user',
  'table',
  'then',
  'true',
  'union',
  'update',
  'user',
  'using',
  'values',
  'when',
  'where',
  'window',
  'with',
]);

/** Keywords PostgreSQL reads as a value without parentheses (SQL-standard clock functions). */
const CLOCK = new Set([
  'current_date',
  'current_time',
  'current_timestamp',
  'localtime',
  'localtimestamp',
]);

const COMPARISON = new Set(['=', '<>', '!=', '<', '>', '<=', '>=']);
const OPERATORS = new Set([...COMPARISON, '+', '-', '*', '/', '%', '||']);
const OPERATOR_CHARS = '+-*/<>=~!@#%^&|`?';

interface Token {
  kind: 'string' | 'number' | 'word' | 'op' | 'punct' | 'end';
  text: string;
  at: number;
}

/** Thrown inside the parser; the public functions turn it into a problem message. */
class Refusal extends Error {}

const identStart = (ch: string | undefined) => ch !== undefined && /[A-Za-z_]/.test(ch);
const identChar = (ch: string | undefined) => ch !== undefined && /[A-Za-z0-9_]/.test(ch);

/**
 * Splits an expression into tokens, refusing everything outside the expression language (the
 * message says what and where: 1-based character).
 */
function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const refuse = (what: string): never => {
    throw new Refusal(`${what} (at character ${i + 1})`);
  };
  while (i < text.length) {
    const ch = text[i]!;
    const next = text[i + 1];
    const at = i;
    if (/[ \t\n\r\f]/.test(ch)) {
      i++;
    } else if (ch === ';') {
      refuse('the statement separator ; is not allowed');
    } else if ((ch === '-' && next === '-') || (ch === '/' && next === '*')) {
      refuse('comments are not allowed');
    } else if (ch === '$') {
      refuse('$ (dollar quotes, parameters) is not allowed');
    } else if (ch === '"') {
      refuse('quoted identifiers are not allowed: name columns plainly');
    } else if (ch === '\\') {
      refuse('backslashes are not allowed');
    } else if (ch === "'") {
      // Only standard strings: '' is the one escape; E'', U&'', B'', X'' were refused before this.
      let end = i + 1;
      for (;;) {
        const close = text.indexOf("'", end);
        if (close < 0) refuse('unterminated string literal');
        if (text[close + 1] === "'") end = close + 2;
        else {
          end = close + 1;
          break;
        }
      }
      tokens.push({ kind: 'string', text: text.slice(i, end), at });
      i = end;
    } else if (/[0-9]/.test(ch)) {
      const number = /^\d+(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i))![0];
      i += number.length;
      if (identChar(text[i]) || text[i] === '.')
        refuse(`malformed number '${text.slice(at, i + 1)}'`);
      tokens.push({ kind: 'number', text: number, at });
    } else if (identStart(ch)) {
      let end = i + 1;
      while (identChar(text[end])) end++;
      if (text[end] === "'")
        refuse("prefixed string literals (E'', U&'', B'', X'', typed 'literals') are not allowed");
      if (text[end] === '$') refuse('$ (dollar quotes, parameters) is not allowed');
      tokens.push({ kind: 'word', text: text.slice(i, end), at });
      i = end;
    } else if (ch === ':' && next === ':') {
      tokens.push({ kind: 'op', text: '::', at });
      i += 2;
    } else if ('(),[]'.includes(ch)) {
      tokens.push({ kind: 'punct', text: ch, at });
      i++;
    } else if (OPERATOR_CHARS.includes(ch)) {
      let end = i;
      while (end < text.length && OPERATOR_CHARS.includes(text[end]!)) end++;
      let op = text.slice(i, end);
      if (op.includes('--') || op.includes('/*')) refuse('comments are not allowed');
      // PostgreSQL's lexer rule: a trailing + or - belongs to the next token unless the operator
      // holds one of ~ ! @ # % ^ & | ` ? (so `a=-1` is `=` then `-1`, but `a||-1` is `||-`).
      while (op.length > 1 && /[+-]$/.test(op) && !/[~!@#%^&|`?]/.test(op)) op = op.slice(0, -1);
      if (!OPERATORS.has(op)) refuse(`operator ${op} is not allowed`);
      tokens.push({ kind: 'op', text: op, at });
      i += op.length;
    } else {
      refuse(`character '${ch}' is not allowed`);
    }
  }
  tokens.push({ kind: 'end', text: '', at: text.length });
  return tokens;
}

/** Recursive descent over the expression language; `parse*` consume tokens or throw a Refusal. */
class Parser {
  private index = 0;
  constructor(private readonly tokens: Token[]) {}

  private get token(): Token {
    return this.tokens[this.index]!;
  }

  private word(offset = 0): string | undefined {
    const t = this.tokens[this.index + offset];
    return t?.kind === 'word' ? t.text.toLowerCase() : undefined;
  }

  private isPunct(text: string): boolean {
    return this.token.kind === 'punct' && this.token.text === text;
  }

  private refuse(what: string): never {
    const t = this.token;
    throw new Refusal(
      `${what}, found ${t.kind === 'end' ? 'the end' : `'${t.text}'`} (at character ${t.at + 1})`,
    );
  }

  private expect(kind: Token['kind'], text: string): void {
    const matches =
      this.token.kind === kind &&
      (kind === 'word' ? this.word() === text : this.token.text === text);
    if (!matches) this.refuse(`expected '${text}'`);
    this.index++;
  }

  private acceptWord(...words: string[]): boolean {
    if (!words.every((w, offset) => this.word(offset) === w)) return false;
    this.index += words.length;
    return true;
  }

  parseAll(parse: () => void): void {
    parse();
    if (this.token.kind !== 'end') this.refuse('expected the end of the expression');
  }

  expression = (): void => {
    this.conjunction();
    while (this.acceptWord('or')) this.conjunction();
  };

  private conjunction(): void {
    this.negation();
    while (this.acceptWord('and')) this.negation();
  }

  private negation(): void {
    if (this.acceptWord('not')) return this.negation();
    this.predicate();
  }

  private predicate(): void {
    this.comparison();
    while (this.acceptWord('is')) {
      this.acceptWord('not');
      if (this.acceptWord('distinct', 'from')) this.comparison();
      else if (!this.acceptWord('null') && !this.acceptWord('true') && !this.acceptWord('false'))
        this.refuse('expected NULL, TRUE, FALSE or DISTINCT FROM after IS');
    }
  }

  private comparison(): void {
    this.range();
    if (this.token.kind === 'op' && COMPARISON.has(this.token.text)) {
      this.index++;
      this.range();
    }
  }

  private range(): void {
    this.additive();
    const negated =
      this.word() === 'not' && ['in', 'between', 'like', 'ilike'].includes(this.word(1)!);
    if (negated) this.index++;
    if (this.acceptWord('between')) {
      this.additive();
      this.expect('word', 'and');
      this.additive();
    } else if (this.acceptWord('like') || this.acceptWord('ilike')) {
      this.additive();
    } else if (this.acceptWord('in')) {
      this.expect('punct', '(');
      this.list();
      this.expect('punct', ')');
    }
  }

  private additive(): void {
    this.multiplicative();
    while (this.token.kind === 'op' && ['+', '-', '||'].includes(this.token.text)) {
      this.index++;
      this.multiplicative();
    }
  }

  private multiplicative(): void {
    this.unary();
    while (this.token.kind === 'op' && ['*', '/', '%'].includes(this.token.text)) {
      this.index++;
      this.unary();
    }
  }

  private unary(): void {
    if (this.token.kind === 'op' && ['+', '-'].includes(this.token.text)) {
      this.index++;
      return this.unary();
    }
    this.primary();
    while (this.token.kind === 'op' && this.token.text === '::') {
      this.index++;
      this.type();
    }
  }

  private list(): void {
    this.expression();
    while (this.isPunct(',')) {
      this.index++;
      this.expression();
    }
  }

  private primary(): void {
    const t = this.token;
    if (t.kind === 'string' || t.kind === 'number') {
      this.index++;
      return;
    }
    if (this.isPunct('(')) {
      this.index++;
      this.expression();
      this.expect('punct', ')');
      return;
    }
    const word = this.word();
    if (word === undefined) this.refuse('expected a value');
    if (['null', 'true', 'false'].includes(word) || CLOCK.has(word)) {
      this.index++;
      return;
    }
    if (word === 'case') return this.caseExpression();
    if (word === 'cast') {
      this.index++;
      this.expect('punct', '(');
      this.expression();
      this.expect('word', 'as');
      this.type();
      this.expect('punct', ')');
      return;
    }
    if (RESERVED.has(word)) this.refuse(`keyword ${word.toUpperCase()} is not allowed here`);
    const call = this.tokens[this.index + 1];
    if (call?.kind === 'punct' && call.text === '(') {
      if (!EXPRESSION_FUNCTIONS.has(word))
        this.refuse(
          `function ${word} is not allowed (allowed: ${[...EXPRESSION_FUNCTIONS].join(', ')})`,
        );
      this.index += 2;
      if (!this.isPunct(')')) this.list();
      this.expect('punct', ')');
      return;
    }
    // Column names are matched case-sensitively when the trigger renames them: lowercase only.
    if (t.text !== word) this.refuse('column names are lowercase');
    this.index++;
  }

  private caseExpression(): void {
    this.index++;
    // Simple CASE (`CASE x WHEN 1 ...`) or searched CASE (`CASE WHEN x = 1 ...`).
    if (this.word() !== 'when') this.expression();
    if (this.word() !== 'when') this.refuse('expected WHEN');
    while (this.acceptWord('when')) {
      this.expression();
      this.expect('word', 'then');
      this.expression();
    }
    if (this.acceptWord('else')) this.expression();
    this.expect('word', 'end');
  }

  /** A type name from TYPES, its modifiers, then any number of []; returns it spelled canonically. */
  type = (): string => {
    let name: string | undefined;
    for (let words = LONGEST_TYPE; words > 0 && name === undefined; words--) {
      const candidate = Array.from({ length: words }, (_, k) => this.word(k)).join(' ');
      if (TYPES.has(candidate)) {
        name = candidate;
        this.index += words;
      }
    }
    if (name === undefined) this.refuse(`expected a type (${[...TYPES.keys()].join(', ')})`);
    const modifiers: string[] = [];
    if (this.isPunct('(')) {
      this.index++;
      do {
        if (modifiers.length > 0) this.index++;
        if (this.token.kind !== 'number' || !/^\d{1,7}$/.test(this.token.text))
          this.refuse('expected a whole number type modifier');
        modifiers.push(String(Number(this.token.text)));
        this.index++;
      } while (this.isPunct(','));
      this.expect('punct', ')');
      if (modifiers.length > TYPES.get(name)!)
        throw new Refusal(`type ${name} takes at most ${TYPES.get(name)} modifier(s)`);
    }
    let brackets = '';
    while (this.isPunct('[')) {
      this.index++;
      this.expect('punct', ']');
      brackets += '[]';
    }
    return `${name}${modifiers.length > 0 ? `(${modifiers.join(',')})` : ''}${brackets}`;
  };
}

/** Why `text` is not an expression Rollgate runs, or undefined when it is one. */
export function expressionProblem(text: string): string | undefined {
  try {
    const parser = new Parser(tokenize(text));
    parser.parseAll(parser.expression);
    return undefined;
  } catch (error) {
    if (error instanceof Refusal) return error.message;
    throw error;
  }
}

/** A type name in canonical spelling (`VARCHAR( 255 )` → `varchar(255)`), or why it is refused. */
export function parseTypeName(
  text: string,
): { ok: true; type: string } | { ok: false; problem: string } {
  try {
    const parser = new Parser(tokenize(text));
    let type = '';
    parser.parseAll(() => (type = parser.type()));
    return { ok: true, type };
  } catch (error) {
    if (error instanceof Refusal) return { ok: false, problem: error.message };
    throw error;
  }
}

/**
 * Why `sql` is not exactly one statement, or undefined. Understands quoted literals (E'' too),
 * quoted identifiers and dollar quotes; a ; outside them, a comment, or anything left unterminated
 * is refused. The executor runs every statement through this, whatever built it.
 */
export function statementProblem(sql: string): string | undefined {
  let i = 0;
  while (i < sql.length) {
    const ch = sql[i]!;
    const next = sql[i + 1];
    if (ch === ';') return `more than one statement (; at character ${i + 1})`;
    if ((ch === '-' && next === '-') || (ch === '/' && next === '*'))
      return `comment at character ${i + 1}`;
    if (identStart(ch)) {
      const start = i;
      while (identChar(sql[i]) || sql[i] === '$') i++;
      const escaped = i - start === 1 && /[eE]/.test(ch) && sql[i] === "'";
      if (escaped) {
        // E'...': a backslash escapes the next character, so \' does not end the literal.
        let end = i + 1;
        for (;;) {
          if (end >= sql.length) return `unterminated string at character ${start + 1}`;
          if (sql[end] === '\\' || (sql[end] === "'" && sql[end + 1] === "'")) end += 2;
          else if (sql[end] === "'") break;
          else end++;
        }
        i = end + 1;
      }
      continue;
    }
    if (ch === "'" || ch === '"') {
      const close = sql.indexOf(ch, i + 1);
      if (close < 0)
        return `unterminated ${ch === "'" ? 'string' : 'identifier'} at character ${i + 1}`;
      // A doubled quote ('' or "") is the close and reopen of one literal: same result.
      i = close + 1;
      continue;
    }
    if (ch === '$') {
      const tag = /^\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i));
      if (!tag) return `$ outside a dollar quote at character ${i + 1}`;
      const close = sql.indexOf(tag[0], i + tag[0].length);
      if (close < 0) return `unterminated dollar quote ${tag[0]} at character ${i + 1}`;
      i = close + tag[0].length;
      continue;
    }
    i++;
  }
  return undefined;
}
