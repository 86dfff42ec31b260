import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  OrchestratorAppModule,
  ORCHESTRATOR_PERSISTENCE,
  ORCHESTRATOR_SERVICE,
} from '@rollgate/app-orchestrator';
import { verifyWebhookSignature } from '@rollgate/contracts';
import {
  FileTokenStore,
  issueToken,
  parseConfig,
  setupHttpApp,
  startEventLogTransport,
} from '@rollgate/platform';
import { eventually, openTestRuntime, tempTokensFile } from '@rollgate/platform/testing';
import { runCli } from '../program';

const SECRET = 'cli-webhook-secret-value';

describe('rollgate subscriptions against a real orchestrator and a real receiver', () => {
  let app: INestApplication;
  let url: string;
  let receiver: Server;
  let receiverUrl: string;
  let healthy = false;
  const received: { ceId: string; signed: boolean }[] = [];
  const tokensFile = tempTokensFile();
  const secretFile = join(dirname(tokensFile), 'webhook.secret');
  const admin = issueToken(tokensFile, { subject: 'cli-admin', scopes: ['admin'] });
  const deployer = issueToken(tokensFile, { subject: 'cli-deployer', scopes: ['deploy'] });

  beforeAll(async () => {
    writeFileSync(secretFile, `${SECRET}\n`, { mode: 0o600 });
    receiver = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (c: Buffer) => chunks.push(c));
      request.on('end', () => {
        const header = request.headers['rollgate-signature'] as string | undefined;
        const body = Buffer.concat(chunks);
        received.push({
          ceId: String(request.headers['ce-id']),
          signed: verifyWebhookSignature({ secret: SECRET, header, body }).valid,
        });
        response.writeHead(healthy ? 200 : 503).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    const runtime = await openTestRuntime('orchestrator', ORCHESTRATOR_PERSISTENCE, {
      ROLLGATE_RECONCILER: 'off',
    });
    app = await NestFactory.create(
      OrchestratorAppModule.forRoot({ tokenStore: new FileTokenStore(tokensFile), runtime }),
      { logger: false },
    );
    setupHttpApp(app, ORCHESTRATOR_SERVICE);
    await app.init();
    await startEventLogTransport(app, runtime);
    await app.listen(0, '127.0.0.1');
    url = await app.getUrl();
  });
  afterAll(async () => {
    await app.close();
    receiver.closeAllConnections();
    await new Promise((resolve) => receiver.close(resolve));
  });

  async function run(token: string, ...argv: string[]) {
    let stdout = '';
    let stderr = '';
    const exitCode = await runCli(['--token', token, ...argv], {
      config: parseConfig({ ROLLGATE_ORCHESTRATOR_URL: url }),
      output: { out: (t) => (stdout += t), err: (t) => (stderr += t) },
    });
    return { exitCode, stdout, stderr };
  }

  const json = <T>(text: string) => JSON.parse(text) as T;

  it('creates, shows, dead-letters, redelivers, replays and deletes a subscription', async () => {
    const bad = await run(
      admin,
      'subscriptions',
      'create',
      '--url',
      'ftp://x/y',
      '--types',
      'Releas',
      '--secret-file',
      secretFile,
    );
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr).toContain('url: must be an http or https URL');
    const typo = await run(
      admin,
      'subscriptions',
      'create',
      '--url',
      receiverUrl,
      '--types',
      'Release*,Relase*',
      '--secret-file',
      secretFile,
    );
    expect(typo.stderr).toContain('types[1]: matches no published event type');
    expect(
      (
        await run(
          deployer,
          'subscriptions',
          'create',
          '--url',
          receiverUrl,
          '--types',
          '*',
          '--secret-file',
          secretFile,
        )
      ).stderr,
    ).toContain('error (403)');

    const created = await run(
      admin,
      'subscriptions',
      'create',
      '--url',
      receiverUrl,
      '--types',
      'Release*',
      '--service',
      'cli-hooks',
      '--max-attempts',
      '1',
      '--secret-file',
      secretFile,
      '--json',
    );
    expect(created.exitCode).toBe(0);
    const id = json<{ subscriptionId: string }>(created.stdout).subscriptionId;

    const listed = await run(admin, 'subscriptions', 'list');
    expect(listed.stdout).toMatch(
      new RegExp(`${id}\\s+binary\\s+cli-hooks\\s+Release\\*\\s+${receiverUrl}`),
    );
    const show = await run(admin, 'subscriptions', 'show', id);
    expect(show.stdout).toMatch(/secret\s+sha256:[a-f0-9]{16} \(fingerprint\)/);
    expect(show.stdout + listed.stdout).not.toContain(SECRET);

    const beforeRelease = new Date(Date.now() - 1_000).toISOString();
    const release = await fetch(`${url}/releases`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${deployer}` },
      body: JSON.stringify({
        service: 'cli-hooks',
        artifact: { name: 'cli-hooks', digest: `sha256:${'c'.repeat(64)}` },
        first: true,
      }),
    });
    expect(release.status).toBe(201);
    // The receiver answers 503 and the subscription allows one attempt: a dead letter.
    const dead = await eventually(
      async () =>
        json<{ id: number; eventType: string }[]>(
          (await run(admin, 'subscriptions', 'dead-letters', id, '--json')).stdout,
        ),
      (list) => list.length === 1,
      'a dead letter',
    );
    expect(dead[0]!.eventType).toBe('ReleaseRequested');
    const attempts = await run(admin, 'subscriptions', 'deliveries', id);
    expect(attempts.stdout).toMatch(/failed\s+503/);

    healthy = true;
    expect((await run(admin, 'subscriptions', 'redeliver', id, String(dead[0]!.id))).stdout).toBe(
      '1 dead letter(s) queued again\n',
    );
    await eventually(
      () => received.filter((r) => r.signed).length,
      (n) => n === 2,
      'the redelivered event',
    );
    const replayed = await run(admin, 'subscriptions', 'replay', id, '--from-offset', '0');
    expect(replayed.stdout).toBe(`1 event(s) queued for subscription ${id}\n`);
    await eventually(
      () => received.length,
      (n) => n === 3,
      'the replayed event',
    );
    // From a time: nothing happened after a moment to come; the release's event from before it.
    const later = new Date(Date.now() + 60_000).toISOString();
    expect((await run(admin, 'subscriptions', 'replay', id, '--from-time', later)).stdout).toBe(
      `0 event(s) queued for subscription ${id}\n`,
    );
    expect(
      (await run(admin, 'subscriptions', 'replay', id, '--from-time', beforeRelease)).stdout,
    ).toBe(`1 event(s) queued for subscription ${id}\n`);
    await eventually(
      () => received.length,
      (n) => n === 4,
      'the event replayed from a time',
    );
    expect(new Set(received.map((r) => r.ceId)).size).toBe(1);
    expect(received.every((r) => r.signed)).toBe(true);
    const post = async (path: string, body: unknown) => {
      const answer = await fetch(`${url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` },
        body: JSON.stringify(body),
      });
      return { status: answer.status, body: (await answer.json()) as { details?: unknown[] } };
    };
    const shortSecret = await post('/subscriptions', {
      url: receiverUrl,
      types: ['*'],
      secret: 'short',
    });
    expect(shortSecret.status).toBe(400);
    expect(shortSecret.body.details).toEqual([expect.objectContaining({ field: 'secret' })]);
    const both = await post(`/subscriptions/${id}/replay`, {
      fromOffset: 0,
      fromTime: '2026-01-01T00:00:00Z',
    });
    expect(both.status).toBe(400);
    expect(both.body.details).toEqual([expect.objectContaining({ field: 'fromOffset' })]);
    const noStart = await run(admin, 'subscriptions', 'replay', id);
    expect(noStart.exitCode).toBe(2);
    expect(noStart.stderr).toContain('give exactly one of --from-offset and --from-time');

    expect((await run(admin, 'subscriptions', 'delete', id)).stdout).toBe(
      `subscription ${id} deleted\n`,
    );
    expect((await run(admin, 'subscriptions', 'show', id)).stderr).toContain('error (404)');
  });
});
