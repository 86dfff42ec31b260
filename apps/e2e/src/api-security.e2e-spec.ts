import fc from 'fast-check';
import { Client } from 'pg';
import { issueToken, SCOPES, type Scope } from '@rollgate/platform';
import { createTestDatabase } from '@rollgate/platform/testing';
import {
  digest,
  emptyFleet,
  portsEnv,
  SERVICES,
  startEmbeddedHost,
  stop,
  tempDir,
  type Proc,
} from './support';

/**
 * Every mutating route of the five running services, read from their OpenAPI documents, under
 * two attacks: the auth matrix (no token, malformed, wrong scope, a token limited to another
 * service) and a seeded fuzz of bodies, headers and path parameters. Run against the embedded
 * host with its reconciler off, so no fleet is started.
 */

const base = 19600;
const env = portsEnv(base);
const url = (service: string) => env[`ROLLGATE_${service.toUpperCase()}_URL`]!;
const MUTATING = ['post', 'put', 'patch', 'delete'] as const;
const FUZZ_REQUESTS = 5_000;

interface Route {
  service: string;
  method: string;
  /** OpenAPI form, e.g. `/flags/{key}/kill`. */
  path: string;
  scopes: Scope[];
  query: { name: string; required: boolean }[];
}

/** Where routes act: the fixture everyone attacks, and a sandbox the fuzz's admin may change. */
interface Place {
  service: string;
  project: string;
  flag: string;
  segment: string;
  releaseId: string;
  migrationId: string;
}

const key = (route: Route) => `${route.method.toUpperCase()} ${route.path}`;

/** A body each route accepts (for `place`): the limited token must be refused for who it is. */
function validBody(route: Route, place: Place, database: string): unknown {
  const bodies: Record<string, unknown> = {
    'POST /releases': {
      service: place.service,
      artifact: { name: place.service, digest: digest('c') },
    },
    'POST /releases/{id}/pause': { reason: 'security test' },
    'POST /releases/{id}/resume': {},
    'POST /releases/{id}/promote': {},
    'POST /releases/{id}/abort': { reason: 'security test' },
    'POST /flags/{key}/evaluate': { environment: 'production', context: { userId: 'u-1' } },
    'POST /flags/{key}/outcomes': {
      environment: 'production',
      cohorts: [{ cohort: 'on', requests: 10, errors: 0 }],
    },
    'PUT /flags/segments/{key}': {
      constraints: [{ attribute: 'plan', operator: 'IN', values: ['beta'] }],
    },
    'POST /flags/projects': { name: place.project, services: ['other'] },
    'POST /flags': { project: place.project, key: 'brand-new', type: 'release', owner: 'team' },
    'PUT /flags/{key}/environments/{environment}': { enabled: false },
    'PATCH /flags/{key}': { description: 'changed' },
    'POST /flags/{key}/rollout': { environment: 'production', percentage: 10 },
    'POST /flags/{key}/kill': { environment: 'production', reason: 'security test' },
    'POST /flags/{key}/retire': { reason: 'security test' },
    'POST /flags/{key}/extend': { expiresAt: '2099-01-01T00:00:00.000Z', reason: 'later' },
    'POST /flags/{key}/guarded-rollout': { environment: 'production' },
    'DELETE /flags/{key}/guarded-rollout': undefined,
    'POST /migrations': { database, plan: migrationPlan(place.service, 'from_test') },
    'POST /migrations/lint': { sql: 'ALTER TABLE items ADD COLUMN x text' },
    'POST /compat/check': {
      service: place.service,
      provides: { openapi: '3.0.3', info: { title: 't', version: '1' }, paths: {} },
    },
    'POST /migrations/{id}/start': {},
    'POST /migrations/{id}/complete': {},
    'POST /migrations/{id}/rollback': {},
    // Port 9 (discard) refuses: deliveries of subscriptions the fuzz creates fail fast.
    'POST /subscriptions': {
      url: 'http://127.0.0.1:9/hooks',
      types: ['Release*'],
      service: place.service,
      secret: 'security-test-secret',
    },
    'DELETE /subscriptions/{id}': undefined,
    'POST /subscriptions/{id}/redeliver': {},
    'POST /subscriptions/{id}/replay': { fromOffset: 0 },
    'PUT /canary-configs/{name}': {
      config: {
        apiVersion: 'rollgate/v1',
        kind: 'CanaryConfig',
        metrics: [{ name: 'errors', query: { embedded: 'error-rate' }, direction: 'increase' }],
      },
    },
    'POST /services/{name}/policy': servicePolicy(place.service),
    'POST /services/{name}/policy/diff': servicePolicy(place.service),
  };
  if (!(key(route) in bodies)) throw new Error(`no valid body for ${key(route)}: add one`);
  return bodies[key(route)];
}

function servicePolicy(service: string) {
  return {
    apiVersion: 'rollgate/v1',
    kind: 'ServicePolicy',
    service,
    release: { strategy: 'canary', plan: { steps: [10, 50], stepSeconds: 30 } },
  };
}

function migrationPlan(service: string, column: string) {
  return {
    name: `add_${column}`,
    service,
    versions: { old: ['1.0.0'], new: ['2.0.0'] },
    operations: [
      { op: 'addColumn', table: 'items', column: { name: column, type: 'text', nullable: true } },
    ],
  };
}

/** The concrete URL of a route for a place, with its required query parameters. */
function concretePath(route: Route, place: Place, params: Partial<Record<string, string>> = {}) {
  const value = (name: string): string => {
    if (params[name] !== undefined) return params[name]!;
    if (name === 'id')
      return route.path.startsWith('/migrations') ? place.migrationId : place.releaseId;
    if (name === 'key')
      return route.path.startsWith('/flags/segments') ? place.segment : place.flag;
    if (name === 'environment') return 'production';
    if (name === 'name') return place.service;
    throw new Error(`no fixture for path parameter {${name}} in ${key(route)}`);
  };
  const path = route.path.replace(/\{(\w+)\}/g, (_, name: string) =>
    encodeURIComponent(value(name)),
  );
  const query = route.query
    .filter((q) => q.name === 'project' || q.required)
    .map(
      (q) =>
        `${q.name}=${encodeURIComponent(q.name === 'project' ? place.project : value(q.name))}`,
    );
  return `${url(route.service)}${path}${query.length ? `?${query.join('&')}` : ''}`;
}

interface Sent {
  status: number;
  text: string;
}

async function send(
  method: string,
  target: string,
  headers: Record<string, string>,
  body?: string | Buffer,
): Promise<Sent> {
  const response = await fetch(target, {
    method: method.toUpperCase(),
    headers,
    ...(body === undefined ? {} : { body }),
    signal: AbortSignal.timeout(15_000),
  });
  return { status: response.status, text: await response.text() };
}

const json = (token: string | undefined) => ({
  'content-type': 'application/json',
  ...(token ? { authorization: `Bearer ${token}` } : {}),
});

async function readRoutes(): Promise<Route[]> {
  const routes: Route[] = [];
  for (const service of SERVICES) {
    const document = (await (await fetch(`${url(service)}/docs-json`)).json()) as {
      paths: Record<string, Record<string, Record<string, unknown>>>;
    };
    for (const [path, operations] of Object.entries(document.paths)) {
      for (const method of MUTATING) {
        const operation = operations[method];
        if (!operation) continue;
        const parameters = (operation['parameters'] ?? []) as {
          name: string;
          in: string;
          required?: boolean;
        }[];
        routes.push({
          service,
          method,
          path,
          scopes: operation['x-rollgate-scopes'] as Scope[],
          query: parameters
            .filter((p) => p.in === 'query')
            .map((p) => ({ name: p.name, required: p.required === true })),
        });
      }
    }
  }
  return routes;
}

describe('every mutating route under attack (embedded host, reconciler off)', () => {
  let host: Proc;
  let fleet: { url: string; close: () => Promise<void> };
  let database: { url: string; drop: () => Promise<void> };
  let databaseName: string;
  let routes: Route[];
  const dir = tempDir('security');
  const tokensFile = `${dir}/tokens.json`;
  const admin = issueToken(tokensFile, { subject: 'sec-admin', scopes: ['admin'] });
  const allButAdmin = SCOPES.filter((s) => s !== 'admin');
  const otherTeam = issueToken(tokensFile, {
    subject: 'other-team',
    scopes: allButAdmin,
    services: ['other'],
  });
  const fixture = {} as Place;
  const sandbox = {} as Place;

  async function create(place: Place, service: string) {
    place.service = service;
    place.project = `${service}-flags`;
    place.flag = `${service}-flag`;
    place.segment = 'beta';
    const post = async (service: string, path: string, body: unknown, method = 'POST') => {
      const answer = await send(
        method,
        `${url(service)}${path}`,
        json(admin),
        JSON.stringify(body),
      );
      if (answer.status >= 300)
        throw new Error(`${method} ${path}: ${answer.status} ${answer.text}`);
      return JSON.parse(answer.text) as Record<string, string>;
    };
    place.releaseId = (
      await post('orchestrator', '/releases', {
        service,
        artifact: { name: service, digest: digest('a') },
        first: true,
      })
    )['releaseId']!;
    await post('flags', '/flags/projects', { name: place.project, services: [service] });
    await post('flags', '/flags', {
      project: place.project,
      key: place.flag,
      type: 'release',
      owner: `team-${service}`,
    });
    await post(
      'flags',
      `/flags/segments/${place.segment}?project=${place.project}`,
      { constraints: [{ attribute: 'plan', operator: 'IN', values: ['beta'] }] },
      'PUT',
    );
    place.migrationId = (
      await post('migrations', '/migrations', {
        database: databaseName,
        plan: migrationPlan(service, `${service}_note`),
      })
    )['migrationId']!;
  }

  /** What the fixture looks like from outside: must not change, byte for byte. */
  async function fixtureSnapshot(): Promise<string[]> {
    const reads = [
      `${url('orchestrator')}/releases/${fixture.releaseId}`,
      `${url('orchestrator')}/releases/${fixture.releaseId}/timeline`,
      `${url('flags')}/flags/${fixture.flag}?project=${fixture.project}`,
      `${url('flags')}/flags/ruleset?project=${fixture.project}`,
      `${url('migrations')}/migrations/${fixture.migrationId}`,
    ];
    return Promise.all(reads.map(async (read) => (await send('GET', read, json(admin))).text));
  }

  beforeAll(async () => {
    database = await createTestDatabase('sec_');
    databaseName = new URL(database.url).pathname.slice(1);
    const client = new Client({ connectionString: database.url });
    await client.connect();
    await client.query('CREATE TABLE items (id bigserial PRIMARY KEY, name text NOT NULL)');
    await client.end();
    // No fleet runs: the migrations contract gate and the flags guard ask an empty one.
    fleet = await emptyFleet();
    host = await startEmbeddedHost({
      ...env,
      ROLLGATE_ORCHESTRATOR_URL: fleet.url,
      ROLLGATE_DATA_DIR: `${dir}/data`,
      ROLLGATE_TOKENS_FILE: tokensFile,
      ROLLGATE_RECONCILER: 'off',
      ROLLGATE_MIGRATION_DATABASES: databaseName,
    });
    await create(fixture, 'alpha');
    await create(sandbox, 'sandbox');
    routes = await readRoutes();
  }, 120_000);

  afterAll(async () => {
    await stop(host);
    await fleet.close();
    await database.drop();
  });

  it('refuses every mutating route without a token, with a malformed one, a wrong scope or another service', async () => {
    expect(routes.length).toBeGreaterThanOrEqual(23);
    const wrongScope = new Map<string, string>();
    const tokenLacking = (scopes: Scope[]) => {
      const name = scopes.join(',');
      if (!wrongScope.has(name)) {
        const others = allButAdmin.filter((s) => !scopes.includes(s));
        wrongScope.set(name, issueToken(tokensFile, { subject: `lacks-${name}`, scopes: others }));
      }
      return wrongScope.get(name)!;
    };
    const before = await fixtureSnapshot();
    const failures: string[] = [];
    let cases = 0;
    for (const route of routes) {
      expect(route.scopes?.length).toBeGreaterThan(0);
      const target = concretePath(route, fixture);
      const body = validBody(route, fixture, databaseName);
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const attempts: [string, Record<string, string>, number][] = [
        ['no token', json(undefined), 401],
        ['malformed token', { ...json(undefined), authorization: 'Bearer not a token' }, 401],
        ['unknown token', json('rg_0000000000000000000000000000000000000000'), 401],
        ['basic auth', { ...json(undefined), authorization: 'Basic YWRtaW46YWRtaW4=' }, 401],
        [`wrong scope (lacks ${route.scopes.join(',')})`, json(tokenLacking(route.scopes)), 403],
      ];
      // Reads sent as POST (evaluate, lint, compat check) are not limited to services; the rest is.
      if (!route.scopes.every((s) => s === 'read')) {
        attempts.push(['token limited to another service', json(otherTeam), 403]);
      }
      for (const [label, headers, expected] of attempts) {
        cases += 1;
        const answer = await send(route.method, target, headers, payload);
        if (answer.status !== expected) {
          failures.push(`${key(route)} ${label}: ${answer.status} ${answer.text.slice(0, 200)}`);
        }
      }
    }
    expect(failures).toEqual([]);
    expect(await fixtureSnapshot()).toEqual(before);
    console.log(`auth matrix: ${routes.length} mutating routes, ${cases} refused requests`);
  }, 180_000);

  it(`survives ${FUZZ_REQUESTS} fuzzed requests: no 5xx, no dropped connection, data intact`, async () => {
    const before = await fixtureSnapshot();
    const requests = fc.sample(fuzzRequest(routes), { numRuns: FUZZ_REQUESTS, seed: 20261205 });
    const statuses = new Map<number, number>();
    const broken: string[] = [];
    let next = 0;
    const worker = async () => {
      while (next < requests.length) {
        const request = requests[next++]!;
        const place = request.token === 'admin' ? sandbox : fixture;
        const token = { admin, limited: otherTeam, none: undefined }[request.token];
        const target = concretePath(request.route, place, request.params);
        const headers: Record<string, string> = { ...json(token), ...request.headers };
        const body =
          request.body.kind === 'json'
            ? JSON.stringify(request.body.value(validBody(request.route, place, databaseName)))
            : request.body.raw;
        try {
          const answer = await send(request.route.method, target, headers, body);
          statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
          // The one declared 5xx: the API gate needs the live fleet, which this orchestrator
          // (reconciler off) does not run; it says so after validating the body.
          const declined =
            answer.status === 503 &&
            key(request.route) === 'POST /compat/check' &&
            answer.text.includes('does not run the fleet (ROLLGATE_RECONCILER=off)');
          if (answer.status >= 500 && !declined) {
            const sent = String(body).slice(0, 300);
            broken.push(`${key(request.route)} ${answer.status} ${answer.text} for ${sent}`);
          }
        } catch (error) {
          broken.push(`${key(request.route)} dropped: ${(error as Error).message}`);
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    console.log(
      `fuzz: ${FUZZ_REQUESTS} requests by status ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`,
    );
    expect(broken).toEqual([]);
    for (const service of SERVICES) {
      const health = await fetch(`${url(service)}/health`);
      expect([service, health.status]).toEqual([service, 200]);
    }
    expect(await fixtureSnapshot()).toEqual(before);
  }, 300_000);
});

// ---- the fuzz ------------------------------------------------------------------------------------

interface FuzzRequest {
  route: Route;
  token: 'admin' | 'limited' | 'none';
  params: Partial<Record<string, string>>;
  headers: Record<string, string>;
  body:
    { kind: 'json'; value: (valid: unknown) => unknown } | { kind: 'raw'; raw: string | Buffer };
}

const nasty = fc.oneof(
  fc.constantFrom('__proto__', 'constructor', 'prototype', '', ' ', '..', '%00', 'null', '\u0000'),
  fc.constantFrom('\u202e', '\x1b[2J', "'; DROP TABLE items; --", '$(reboot)', '9'.repeat(400)),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
);

const anyValue = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
  { weight: 2, arbitrary: nasty },
  { weight: 1, arbitrary: fc.constantFrom(null, true, -1, 1e308, -0, [], {}, [null], { '': 1 }) },
  { weight: 1, arbitrary: fc.integer({ min: 65, max: 400 }).map(nested) },
);

function nested(depth: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = i % 2 ? [value] : { a: value };
  return value;
}

type Mutation =
  | { op: 'set'; pick: number; value: unknown }
  | { op: 'drop'; pick: number }
  | { op: 'add'; name: string; value: unknown }
  | { op: 'replace'; value: unknown };

/** Changes one place of a valid body: a field's value, a missing field, an extra one. */
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('set' as const), pick: fc.nat(), value: anyValue }),
  fc.record({ op: fc.constant('drop' as const), pick: fc.nat() }),
  fc.record({ op: fc.constant('add' as const), name: nasty, value: anyValue }),
  fc.record({ op: fc.constant('replace' as const), value: anyValue }),
);

function mutate(valid: unknown, change: Mutation): unknown {
  if (change.op === 'replace') return change.value;
  const copy = JSON.parse(JSON.stringify(valid ?? {})) as Record<string, unknown>;
  const slots: [Record<string, unknown>, string][] = [];
  const walk = (node: unknown) => {
    if (typeof node !== 'object' || node === null) return;
    for (const [name, child] of Object.entries(node)) {
      slots.push([node as Record<string, unknown>, name]);
      walk(child);
    }
  };
  walk(copy);
  if (change.op === 'add') {
    copy[change.name] = change.value;
    return copy;
  }
  if (slots.length === 0) return change.op === 'set' ? change.value : copy;
  const [parent, name] = slots[change.pick % slots.length]!;
  if (change.op === 'drop') delete parent[name];
  else parent[name] = change.value;
  return copy;
}

const headerChanges: fc.Arbitrary<Record<string, string>> = fc.oneof(
  { weight: 6, arbitrary: fc.constant({}) },
  {
    weight: 1,
    arbitrary: fc.constantFrom<Record<string, string>>(
      { 'content-type': 'text/plain' },
      { 'content-type': 'application/x-www-form-urlencoded' },
      { 'content-type': 'application/json; charset=utf-16' },
      { 'content-type': 'application/json; charset=latin1' },
      { 'content-encoding': 'gzip' },
      { 'content-encoding': 'br' },
      { 'content-encoding': 'zstd' },
      { 'content-encoding': 'compress' },
      { authorization: 'Bearer' },
      { 'rollgate-consistency': 'garbage' },
      { 'rollgate-consistency': 'rollgate.releases:0:99999999999999999999' },
    ),
  },
);

const rawBodies = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.constantFrom('', 'null', '[]', '"x"', '{', '{"a":1,}', '\u0000', '{"__proto__":{"x":1}}'),
  fc.integer({ min: 1_000, max: 20_000 }).map((depth) => '['.repeat(depth) + ']'.repeat(depth)),
  fc
    .integer({ min: 100_001, max: 300_000 })
    .map((size) => JSON.stringify({ pad: 'x'.repeat(size) })),
  fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
);

function fuzzRequest(routes: Route[]): fc.Arbitrary<FuzzRequest> {
  return fc.record({
    route: fc.constantFrom(...routes),
    token: fc.constantFrom<FuzzRequest['token']>('admin', 'admin', 'limited', 'none'),
    params: fc.oneof(
      { weight: 3, arbitrary: fc.constant<Partial<Record<string, string>>>({}) },
      {
        weight: 1,
        arbitrary: fc.record<Partial<Record<string, string>>>({
          id: nasty,
          key: nasty,
          environment: nasty,
        }),
      },
    ),
    headers: headerChanges,
    body: fc.oneof(
      {
        weight: 4,
        arbitrary: mutation.map((change) => ({
          kind: 'json' as const,
          value: (valid: unknown) => mutate(valid, change),
        })),
      },
      { weight: 1, arbitrary: rawBodies.map((raw) => ({ kind: 'raw' as const, raw })) },
    ),
  });
}
