import { Body, Controller, Get, INestApplication, Logger, Param, Post } from '@nestjs/common';
import { Type } from 'class-transformer';
import { IsArray, IsString, ValidateNested } from 'class-validator';
import { gzipSync } from 'node:zlib';
import request from 'supertest';
import { issueToken } from '../auth/file-token-store';
import { RequireScopes } from '../auth/decorators';
import { createTestApp, tempTokensFile } from '../testing/create-test-app';
import { RepeatCounter } from './http-error.filter';
import { inspectBody, MAX_BODY_DEPTH } from './request-guard.middleware';
import { OptionalField } from './validation';

class StepDto {
  @IsString()
  name!: string;
}

class PlanDto {
  @OptionalField()
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => StepDto)
  steps?: StepDto[];

  @OptionalField()
  @IsString()
  reason?: string;
}

@Controller('plans')
class PlansController {
  @Post()
  @RequireScopes('deploy')
  create(@Body() body: PlanDto) {
    return { steps: body.steps?.length ?? 0 };
  }

  @Get(':id')
  read(@Param('id') id: string) {
    return { id };
  }

  @Post('explode')
  @RequireScopes('deploy')
  explode(): never {
    throw new Error('the same bug, every time');
  }
}

const nested = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);

describe('what never reaches validation', () => {
  let app: INestApplication;
  let auth: { Authorization: string };
  const post = (path = '/plans') =>
    request(app.getHttpServer()).post(path).set(auth).set('content-type', 'application/json');

  beforeAll(async () => {
    const tokensFile = tempTokensFile();
    auth = {
      Authorization: `Bearer ${issueToken(tokensFile, { subject: 'ci', scopes: ['deploy'] })}`,
    };
    app = await createTestApp(tokensFile, [PlansController]);
  });

  afterAll(() => app.close());

  it('answers a body over the limit with 413', async () => {
    const response = await post().send(JSON.stringify({ reason: 'x'.repeat(200_000) }));
    expect(response.status).toBe(413);
    expect(response.body).toEqual({
      statusCode: 413,
      error: 'Payload Too Large',
      message: 'request entity too large',
    });
  });

  it('answers an unknown Content-Encoding, a charset or a media type it does not read with 415', async () => {
    const compress = await post().set('content-encoding', 'compress').send('{}');
    expect([compress.status, compress.body.message]).toEqual([
      415,
      'unsupported content encoding "compress"',
    ]);
    const latin1 = await post().set('content-type', 'application/json; charset=latin1').send('{}');
    expect([latin1.status, latin1.body.message]).toEqual([415, 'unsupported charset "LATIN1"']);
    const text = await post().set('content-type', 'text/plain').send('steps');
    expect([text.status, text.body.message]).toEqual([
      415,
      'unsupported content type "text/plain": send application/json',
    ]);
    const form = await request(app.getHttpServer())
      .post('/plans')
      .set(auth)
      .type('form')
      .send('a[b][c]=1');
    expect(form.status).toBe(415);
  });

  it('reads a gzip body, and answers one that does not inflate with 400', async () => {
    const gzip = await post()
      .set('content-encoding', 'gzip')
      .serialize((body: Buffer) => body as unknown as string) // raw bytes, not JSON of a Buffer
      .send(gzipSync(JSON.stringify({ steps: [{ name: 'a' }] })));
    expect([gzip.status, gzip.body]).toEqual([201, { steps: 1 }]);
    const broken = await post().set('content-encoding', 'gzip').send('{"steps":[]}');
    expect(broken.status).toBe(400);
  });

  it(`refuses a body nested deeper than ${MAX_BODY_DEPTH} levels before validation recurses`, async () => {
    const deep = await post().send(nested(5000));
    expect(deep.status).toBe(400);
    expect(deep.body.details[0].problem).toBe(`nested deeper than ${MAX_BODY_DEPTH} levels`);
    const deepObject = await post().send('{"steps":'.repeat(3000) + '1' + '}'.repeat(3000));
    expect(deepObject.status).toBe(400);
    expect(deepObject.body.details[0].field).toMatch(/^steps\.steps\./);
    // The limit itself is allowed through to validation.
    expect((await post().send(nested(MAX_BODY_DEPTH))).status).toBe(400);
    expect(inspectBody(JSON.parse(nested(MAX_BODY_DEPTH)))).toBeUndefined();
    expect(inspectBody(JSON.parse(nested(MAX_BODY_DEPTH + 1)))).toBeDefined();
  });

  it('refuses null where an array or a string is expected, naming the field', async () => {
    const steps = await post().send({ steps: null });
    expect(steps.status).toBe(400);
    expect(steps.body.details.map((d: { field: string }) => d.field)).toContain('steps');
    const reason = await post().send({ reason: null });
    expect(reason.body.details).toEqual([{ field: 'reason', problem: 'reason must be a string' }]);
    expect((await post().send('null')).status).toBe(400);
  });

  it('refuses __proto__, constructor and prototype as keys, values, path segments and query values', async () => {
    const key = await post().send('{"steps":[{"name":"a","__proto__":{"admin":true}}]}');
    expect(key.body.details).toEqual([
      { field: 'steps.0.__proto__', problem: '"__proto__" is a reserved name' },
    ]);
    const value = await post().send({ steps: [{ name: 'constructor' }] });
    expect(value.body.details).toEqual([
      { field: 'steps.0.name', problem: '"constructor" is a reserved name' },
    ]);
    const path = await request(app.getHttpServer()).get('/plans/prototype');
    expect([path.status, path.body.details]).toEqual([
      400,
      [{ field: 'path', problem: '"prototype" is a reserved name' }],
    ]);
    const encoded = await request(app.getHttpServer()).get('/plans/%5F%5Fproto%5F%5F');
    expect(encoded.status).toBe(400);
    const query = await request(app.getHttpServer()).get('/plans/a?project=constructor');
    expect(query.body.details).toEqual([
      { field: 'query project', problem: '"constructor" is a reserved name' },
    ]);
    expect((await request(app.getHttpServer()).get('/plans/constructors')).status).toBe(200);
  });

  it('refuses terminal control characters in any text, keeping tabs and newlines', async () => {
    const escape = await post().send({ reason: 'fine\x1b[2J\x1b[31mrm -rf' });
    expect(escape.body.details).toEqual([
      { field: 'reason', problem: 'contains the control character U+001B' },
    ]);
    const bidi = await post().send({ steps: [{ name: 'abc\u202etxt.exe' }] });
    expect(bidi.body.details[0]).toEqual({
      field: 'steps.0.name',
      problem: 'contains the control character U+202E',
    });
    expect((await request(app.getHttpServer()).get('/plans/a%1bb')).status).toBe(400);
    expect((await post().send({ reason: 'line one\n\tline two' })).status).toBe(201);
  });

  it('logs an unexpected error once with its stack, then only at each power of ten', async () => {
    const logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    for (let i = 0; i < 12; i += 1)
      expect((await post('/plans/explode').send({})).status).toBe(500);
    const lines = logged.mock.calls.map(([line]) => String(line));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain('at PlansController.explode');
    expect(lines[1]).toBe('Error: the same bug, every time (seen 10 times)');
  });

  it('forgets the oldest error once it has seen as many distinct ones as it keeps', () => {
    const counter = new RepeatCounter(2);
    expect([counter.count('a'), counter.count('a'), counter.count('b')]).toEqual([1, 2, 1]);
    counter.count('c');
    expect(counter.count('a')).toBe(1);
    expect(counter.count('c')).toBe(2);
  });
});
