import { Body, Controller, INestApplication, Post } from '@nestjs/common';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsString, Max, Min, ValidateNested } from 'class-validator';
import request from 'supertest';
import { issueToken } from '../auth/file-token-store';
import { RequireScopes } from '../auth/decorators';
import { createTestApp, tempTokensFile } from '../testing/create-test-app';

class StepDto {
  @IsInt()
  @Min(0)
  @Max(100)
  weight!: number;
}

class StartReleaseDto {
  @IsString()
  service!: string;

  @IsIn(['canary', 'rolling', 'blue-green'])
  strategy!: string;

  @ValidateNested({ each: true })
  @Type(() => StepDto)
  steps!: StepDto[];
}

@Controller('releases')
class ReleasesController {
  @Post()
  @RequireScopes('deploy')
  start(@Body() body: StartReleaseDto) {
    return { received: body, isDto: body instanceof StartReleaseDto };
  }

  @Post('explode')
  @RequireScopes('deploy')
  explode(): never {
    throw new Error('database password is hunter2');
  }
}

describe('validation and error bodies', () => {
  let app: INestApplication;
  let auth: { Authorization: string };
  const post = (path: string) => request(app.getHttpServer()).post(path).set(auth);

  beforeAll(async () => {
    const tokensFile = tempTokensFile();
    auth = {
      Authorization: `Bearer ${issueToken(tokensFile, { subject: 'ci', scopes: ['deploy'] })}`,
    };
    app = await createTestApp(tokensFile, [ReleasesController]);
  });

  afterAll(() => app.close());

  it('accepts a valid body and hands the handler a DTO instance', async () => {
    const body = { service: 'checkout', strategy: 'canary', steps: [{ weight: 5 }] };
    const response = await post('/releases').send(body).expect(201);
    expect(response.body).toEqual({ received: body, isDto: true });
  });

  it('answers bad input with 400 and one detail per problem, nested fields by path', async () => {
    const response = await post('/releases')
      .send({ service: 42, strategy: 'yolo', steps: [{ weight: 5 }, { weight: 250 }] })
      .expect(400);

    expect(response.body).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: 'validation failed',
      details: expect.arrayContaining([
        { field: 'service', problem: 'service must be a string' },
        { field: 'strategy', problem: expect.stringContaining('must be one of the following') },
        { field: 'steps.1.weight', problem: 'weight must not be greater than 100' },
      ]),
    });
    expect(response.body.details).toHaveLength(3);
  });

  it('rejects unknown properties instead of silently dropping them', async () => {
    const response = await post('/releases')
      .send({ service: 'checkout', strategy: 'canary', steps: [], force: true })
      .expect(400);
    expect(response.body.details).toEqual([
      { field: 'force', problem: 'property force should not exist' },
    ]);
  });

  it('answers malformed JSON with a 400 error body, not a stack trace', async () => {
    const response = await post('/releases')
      .set('Content-Type', 'application/json')
      .send('{"service":')
      .expect(400);
    expect(response.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    expect(JSON.stringify(response.body)).not.toMatch(/\bat \S+ \(/);
  });

  it('hides unexpected errors behind a generic 500', async () => {
    const response = await post('/releases/explode').expect(500);
    expect(response.body).toEqual({
      statusCode: 500,
      error: 'Internal Server Error',
      message: 'internal error',
    });
  });

  it('uses the same shape for unknown routes', async () => {
    const response = await request(app.getHttpServer()).get('/nowhere').expect(404);
    expect(response.body).toEqual({
      statusCode: 404,
      error: 'Not Found',
      message: 'Cannot GET /nowhere',
    });
  });
});
