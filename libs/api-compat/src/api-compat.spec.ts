import fc from 'fast-check';
import {
  canonicalJson,
  checkConsumer,
  checkProvider,
  compareOperation,
  findOperation,
  normalizeOpenApi,
  parseConsumerContract,
  type ConsumedOperation,
  type ConsumerContract,
  type Finding,
  type ProvidedApi,
} from './index';

const ok = <T>(parsed: { ok: true; value: T } | { ok: false; problems: unknown[] }): T => {
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return parsed.value;
};

const orders = (responseProperties: Record<string, unknown>) => ({
  openapi: '3.0.3',
  info: { title: 'orders', version: '1' },
  paths: {
    '/orders/{id}': {
      get: {
        parameters: [{ in: 'path', name: 'id', required: true, schema: { type: 'string' } }],
        responses: {
          '200': {
            description: 'an order',
            content: {
              'application/json': { schema: { type: 'object', properties: responseProperties } },
            },
          },
          '404': { description: 'unknown' },
        },
      },
    },
    '/orders': {
      post: {
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['sku', 'shipping'],
                properties: {
                  sku: { type: 'string' },
                  quantity: { type: 'integer' },
                  shipping: { type: 'string', enum: ['standard', 'express'] },
                },
              },
            },
          },
        },
        responses: { '201': { description: 'created' } },
      },
    },
  },
});

const v1 = ok(normalizeOpenApi(orders({ id: { type: 'string' }, total: { type: 'number' } })));
const v2 = ok(normalizeOpenApi(orders({ id: { type: 'string' } })));
const checkout = (reads: string[]): ConsumerContract => ({
  uses: [
    {
      service: 'orders',
      method: 'GET',
      path: '/orders/{orderId}',
      sends: [],
      reads: reads.map((field) => ({ field })),
    },
  ],
});
const party = (service: string, version: string, instances = 1) => ({
  service,
  version,
  instances,
});

describe('the API compatibility gate', () => {
  it('names who removes what, read by whom on how many instances', () => {
    const report = checkProvider(
      { party: party('orders', '2.0'), api: v2 },
      [],
      [{ party: party('checkout', '1.4', 3), contract: checkout(['id', 'total']) }],
    );
    expect(report.findings.map((f) => f.message)).toEqual([
      'orders 2.0 removes GET /orders/{id} response field "total", read by checkout 1.4 running on 3 instances',
    ]);
  });

  it('lets a provider drop a field once no live consumer reads it', () => {
    const report = checkProvider(
      { party: party('orders', '2.0'), api: v2 },
      [],
      [{ party: party('checkout', '1.5'), contract: checkout(['id']) }],
    );
    expect(report.findings).toEqual([]);
  });

  it('refuses a consumer that reads what a live provider version does not return', () => {
    const report = checkConsumer(
      { party: party('checkout', '1.6'), contract: checkout(['total']) },
      [
        { party: party('orders', '1.0', 2), api: v1 },
        { party: party('orders', '2.0', 1), api: v2 },
      ],
    );
    expect(report.findings.map((f) => f.message)).toEqual([
      'checkout 1.6 reads GET /orders/{id} response field "total", which orders 2.0 (running on 1 instance) does not return',
    ]);
  });

  it('refuses a consumer whose provider runs nowhere, and notes providers that declare no API', () => {
    const nowhere = checkConsumer(
      { party: party('checkout', '1'), contract: checkout(['id']) },
      [],
    );
    expect(nowhere.findings[0]!.message).toBe(
      'checkout 1 calls GET /orders/{orderId} of orders, which has no live instance',
    );
    const undeclared = checkConsumer(
      { party: party('checkout', '1'), contract: checkout(['id']) },
      [{ party: party('orders', '0.9'), api: null }],
    );
    expect(undeclared.findings).toEqual([]);
    expect(undeclared.notes[0]).toContain('orders 0.9 (running on 1 instance) declares no API');
  });

  it('finds required request fields added, enum values removed and types narrowed', () => {
    const use: ConsumedOperation = {
      service: 'orders',
      method: 'POST',
      path: '/orders',
      sends: [{ field: 'sku' }, { field: 'quantity' }, { field: 'shipping' }],
      reads: [],
    };
    expect(compareOperation(v1, use)).toEqual([]);
    const narrowed = structuredClone(orders({}));
    const schema = narrowed.paths['/orders'].post.requestBody.content['application/json'].schema;
    schema.properties.shipping.enum = ['standard'];
    schema.properties.quantity.type = 'string';
    (schema.properties as Record<string, unknown>)['coupon'] = { type: 'string' };
    schema.required.push('coupon');
    const next = ok(normalizeOpenApi(narrowed));
    expect(compareOperation(next, use, [v1]).map((b) => [b.kind, b.field, b.detail])).toEqual([
      ['request-type-narrowed', 'quantity', 'integer → string'],
      ['request-enum-narrowed', 'shipping', '"express"'],
      ['request-field-required', 'coupon', undefined],
    ]);
    // A value the consumer is known to send (a Pact example) is checked without a baseline too.
    const express = {
      ...use,
      sends: [{ field: 'sku' }, { field: 'shipping', value: '"express"' }],
    };
    expect(compareOperation(next, express).map((b) => b.kind)).toContain(
      'request-value-not-accepted',
    );
  });

  it('prefers a literal path segment over a path parameter', () => {
    const api = ok(
      normalizeOpenApi({
        paths: {
          '/orders/{id}': { get: { responses: { '200': { description: 'x' } } } },
          '/orders/search': { get: { responses: { '200': { description: 'y' } } } },
        },
      }),
    );
    expect(findOperation(api, 'GET', '/orders/search')?.path).toBe('/orders/search');
    expect(findOperation(api, 'GET', '/orders/42')?.path).toBe('/orders/{id}');
    expect(findOperation(api, 'POST', '/orders/42')).toBeUndefined();
  });
});

describe('normalizeOpenApi', () => {
  it('flattens resolved $refs, recursive schemas, allOf and oneOf, and parameters', () => {
    const node: Record<string, unknown> = {
      type: 'object',
      properties: { name: { type: 'string' } },
    };
    (node['properties'] as Record<string, unknown>)['child'] = node; // as a dereferenced $ref cycle
    const api = ok(
      normalizeOpenApi({
        paths: {
          '/tree': {
            parameters: [
              { in: 'query', name: 'depth', required: true, schema: { type: 'integer' } },
            ],
            get: {
              parameters: [{ in: 'header', name: 'X-Tenant', schema: { type: 'string' } }],
              responses: {
                '200': {
                  content: {
                    'application/problem+json': {
                      schema: {
                        allOf: [
                          node,
                          { properties: { size: { type: 'integer', nullable: true } } },
                        ],
                        oneOf: [{ properties: { leaf: { type: 'boolean' } } }],
                      },
                    },
                  },
                },
              },
            },
          },
        },
      }),
    );
    const operation = api.operations[0]!;
    expect(operation.request).toEqual([
      { field: 'header:x-tenant', types: ['string'] },
      { field: 'query:depth', types: ['integer'], required: true },
    ]);
    expect(operation.response.map((f) => [f.field, f.types, f.open ?? false])).toEqual([
      ['child', ['object'], true],
      ['leaf', ['boolean'], false],
      ['name', ['string'], false],
      ['size', ['integer', 'null'], false],
    ]);
    const reads = ['child.child.name', 'leaf', 'size'].map((field) => ({ field }));
    expect(
      compareOperation(api, {
        service: 's',
        method: 'GET',
        path: '/tree',
        sends: [{ field: 'query:depth' }],
        reads,
      }),
    ).toEqual([]);
  });

  it('refuses a document that expands beyond its limits, naming where', () => {
    const wide = Object.fromEntries(
      Array.from({ length: 2100 }, (_, i) => [`f${i}`, { type: 'string' }]),
    );
    const parsed = normalizeOpenApi({
      paths: {
        '/x': {
          get: {
            responses: {
              '200': { content: { 'application/json': { schema: { properties: wide } } } },
            },
          },
        },
      },
    });
    expect(parsed).toEqual({
      ok: false,
      problems: [{ field: 'paths./x.get', problem: 'expands to more than 2000 fields' }],
    });
    expect(normalizeOpenApi({ openapi: '3.0.0' }).ok).toBe(false);
  });
});

describe('parseConsumerContract', () => {
  it('reads a Pact file: provider, interactions, what is sent and what a 2xx answer shows', () => {
    const parsed = ok(
      parseConsumerContract({
        consumer: { name: 'checkout' },
        provider: { name: 'orders' },
        interactions: [
          {
            description: 'an order',
            request: { method: 'get', path: '/orders/42', headers: { Accept: 'application/json' } },
            response: { status: 200, body: { id: '42', total: 12.5, lines: [{ sku: 'a' }] } },
          },
          {
            description: 'an unknown order',
            request: { method: 'GET', path: '/orders/0?verbose=1' },
            response: { status: 404, body: { error: 'not found' } },
          },
          {
            description: 'a new order',
            request: { method: 'POST', path: '/orders', body: { sku: 'a', shipping: 'express' } },
            response: { status: 201 },
          },
        ],
        metadata: { pactSpecification: { version: '3.0.0' } },
      }),
    );
    expect(parsed.format).toBe('pact');
    const [get, missing, post] = parsed.contract.uses;
    expect(get).toEqual({
      service: 'orders',
      method: 'GET',
      path: '/orders/42',
      sends: [{ field: 'header:accept' }],
      reads: [
        { field: 'id', type: 'string' },
        { field: 'total', type: 'number' },
        { field: 'lines', type: 'array' },
        { field: 'lines[]', type: 'object' },
        { field: 'lines[].sku', type: 'string' },
      ],
    });
    expect(missing!.path).toBe('/orders/0');
    expect(missing!.reads).toEqual([]);
    expect(post!.sends).toEqual([
      { field: 'sku', type: 'string', value: '"a"' },
      { field: 'shipping', type: 'string', value: '"express"' },
    ]);
    // Against the orders API: the Pact's calls are served by v1; v2 lacks "total".
    const report = checkConsumer({ party: party('checkout', '1'), contract: parsed.contract }, [
      { party: party('orders', '2'), api: v2 },
    ]);
    expect(report.findings.map((f) => [f.kind, f.field])).toEqual([
      ['response-field-missing', 'total'],
      ['response-field-missing', 'lines'],
    ]);
  });

  it('names every bad field of a hand-written contract', () => {
    const parsed = parseConsumerContract({
      uses: [
        {
          service: 'Orders!',
          method: 'FETCH',
          path: 'orders',
          reads: [42, { field: 'x', type: 'int' }],
        },
      ],
    });
    expect(parsed.ok ? [] : parsed.problems.map((p) => p.field)).toEqual([
      'uses[0].service',
      'uses[0].method',
      'uses[0].path',
      'uses[0].reads[0]',
      'uses[0].reads[1].type',
    ]);
    expect(parseConsumerContract([]).ok).toBe(false);
  });
});

it('canonicalJson sorts keys at every level', () => {
  expect(canonicalJson({ b: [{ d: 1, c: 2 }], a: null })).toBe('{"a":null,"b":[{"c":2,"d":1}]}');
});

// ---- properties ----------------------------------------------------------------------------

const name = fc.stringMatching(/^[a-z]{1,5}$/);
const leaf = fc.oneof(
  fc.record({ type: fc.constantFrom('string', 'integer', 'number', 'boolean') }),
  fc.record({
    type: fc.constant('string'),
    enum: fc.uniqueArray(name, { minLength: 1, maxLength: 3 }),
  }),
);
const objectSchema = (inner: fc.Arbitrary<unknown>) =>
  fc
    .dictionary(name, inner, { minKeys: 1, maxKeys: 4 })
    .chain((properties) =>
      fc
        .subarray(Object.keys(properties))
        .map((required) => ({ type: 'object', properties, required })),
    );
const schema = objectSchema(
  fc.oneof({ weight: 3, arbitrary: leaf }, { weight: 1, arbitrary: objectSchema(leaf) }),
);
const documentArb = fc
  .uniqueArray(
    fc.record({
      path: fc.tuple(name, fc.boolean()).map(([s, param]) => `/${s}${param ? '/{id}' : ''}`),
      method: fc.constantFrom('get', 'post', 'put'),
      request: fc.option(schema, { nil: undefined }),
      response: schema,
    }),
    { minLength: 1, maxLength: 4, selector: (o) => `${o.method} ${o.path}` },
  )
  .map((operations) => {
    const paths: Record<string, Record<string, unknown>> = {};
    for (const o of operations)
      (paths[o.path] ??= {})[o.method] = {
        ...(o.request
          ? {
              requestBody: {
                required: true,
                content: { 'application/json': { schema: o.request } },
              },
            }
          : {}),
        responses: { '200': { content: { 'application/json': { schema: o.response } } } },
      };
    return { openapi: '3.0.3', paths };
  });

/** A consumer the API serves: some reads, every required field and some optional ones sent. */
function servedConsumer(api: ProvidedApi, picks: number[]): ConsumerContract {
  const pick = (i: number) => (picks[i % picks.length] ?? 0) % 2 === 0;
  return {
    uses: api.operations.map((o, i) => ({
      service: 'orders',
      method: o.method,
      path: o.path.replace('{id}', '7'),
      reads: o.response
        .filter((_, j) => pick(i + j))
        .map((f) => ({ field: f.field, type: f.types[0]! })),
      sends: o.request
        .filter((f, j) => f.required || pick(i * 7 + j))
        .map((f) => ({
          field: f.field,
          type: f.types[0]!,
          ...(f.enum ? { value: f.enum[0]! } : {}),
        })),
    })),
  };
}

const keys = (findings: Finding[]) =>
  findings.map((f) => `${f.kind} ${f.operation} ${f.field ?? ''}`).sort();
const provide = (api: ProvidedApi) => ({ party: party('orders', 'next'), api });
const consume = (contract: ConsumerContract) => ({ party: party('checkout', 'live'), contract });

describe('properties', () => {
  const picks = fc.array(fc.nat(), { minLength: 1, maxLength: 20 });

  it('adding optional response fields or new paths is never breaking', () => {
    fc.assert(
      fc.property(documentArb, picks, fc.nat(), (document, chosen, which) => {
        const api = ok(normalizeOpenApi(document));
        const consumer = servedConsumer(api, chosen);
        expect(checkProvider(provide(api), [provide(api)], [consume(consumer)]).findings).toEqual(
          [],
        );
        const grown = structuredClone(document) as typeof document;
        const operations = Object.values(grown.paths).flatMap((p) => Object.values(p)) as {
          responses: {
            '200': { content: { 'application/json': { schema: { properties: object } } } };
          };
        }[];
        const target = operations[which % operations.length]!;
        Object.assign(target.responses['200'].content['application/json'].schema.properties, {
          addedField: { type: 'object', properties: { inner: { type: 'string' } } },
        });
        grown.paths['/added/{x}'] = { get: { responses: { '200': { description: 'new' } } } };
        const next = ok(normalizeOpenApi(grown));
        return (
          checkProvider(provide(next), [provide(api)], [consume(consumer)]).findings.length === 0
        );
      }),
    );
  });

  it('removing anything a live consumer reads or sends is always breaking', () => {
    fc.assert(
      fc.property(
        documentArb,
        picks,
        fc.nat(),
        fc.constantFrom('read', 'sent', 'operation'),
        (document, chosen, which, what) => {
          const api = ok(normalizeOpenApi(document));
          const consumer = servedConsumer(api, chosen);
          const used = consumer.uses.flatMap((use, i) =>
            what === 'operation'
              ? [{ i, field: '' }]
              : (what === 'read' ? use.reads : use.sends)
                  .filter((f) => !f.field.startsWith('header:'))
                  .map((f) => ({ i, field: f.field })),
          );
          fc.pre(used.length > 0);
          const { i, field } = used[which % used.length]!;
          const gone = (f: { field: string }) =>
            f.field === field ||
            f.field.startsWith(`${field}.`) ||
            f.field.startsWith(`${field}[]`);
          const next: ProvidedApi = {
            operations: api.operations.flatMap((o, j) => {
              if (j !== i) return [o];
              if (what === 'operation') return [];
              return [
                what === 'read'
                  ? { ...o, response: o.response.filter((f) => !gone(f)) }
                  : { ...o, request: o.request.filter((f) => !gone(f)) },
              ];
            }),
          };
          const report = checkProvider(provide(next), [provide(api)], [consume(consumer)]);
          const kind = {
            read: 'response-field-missing',
            sent: 'request-field-not-accepted',
            operation: 'operation-missing',
          }[what];
          return report.findings.some(
            (f) => f.kind === kind && (what === 'operation' || f.field === field),
          );
        },
      ),
    );
  });

  it('is symmetric: a consumer released before the provider meets the same verdict as after', () => {
    const noise = fc.record({
      reads: fc.array(name, { maxLength: 2 }),
      sends: fc.array(name, { maxLength: 2 }),
      path: fc.option(name, { nil: undefined }),
    });
    fc.assert(
      fc.property(documentArb, documentArb, picks, noise, (served, other, chosen, extra) => {
        const api = ok(normalizeOpenApi(other));
        const consumer = servedConsumer(ok(normalizeOpenApi(served)), chosen);
        const first = consumer.uses[0]!;
        consumer.uses.push({
          ...first,
          path: extra.path ? `/${extra.path}` : first.path,
          reads: [...first.reads, ...extra.reads.map((field) => ({ field }))],
          sends: [...first.sends, ...extra.sends.map((field) => ({ field }))],
        });
        const providerFirst = checkProvider(provide(api), [], [consume(consumer)]);
        const consumerFirst = checkConsumer(consume(consumer), [provide(api)]);
        expect(keys(consumerFirst.findings)).toEqual(keys(providerFirst.findings));
      }),
    );
  });
});
