import {
  ErrorCode,
  OpenFeature,
  ProviderEvents,
  ProviderStatus,
  StandardResolutionReasons,
  type EventDetails,
} from '@openfeature/server-sdk';
import { FlagsClient } from './client';
import { RollgateProvider } from './openfeature-provider';
import { fixtureFlags, fixtureRuleset, withKilled } from './testing/fixtures';
import { RulesetServer } from './testing/ruleset-server';

/**
 * The provider through the real OpenFeature server SDK (its global API, clients, events), against
 * a real HTTP server speaking the flags service's SDK interface. Ports 23130-23149.
 */

const FAST = {
  environment: 'production',
  reconnectDelayMs: 20,
  maxReconnectDelayMs: 150,
  pollIntervalMs: 50,
  requestTimeoutMs: 1_000,
};

const servers: RulesetServer[] = [];

async function serve(port: number) {
  const server = new RulesetServer({ port, pingIntervalMs: 100 }, fixtureRuleset(1));
  await server.start();
  servers.push(server);
  return server;
}

async function until(check: () => boolean, what: string, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

afterEach(async () => {
  await OpenFeature.close();
  await Promise.all(servers.splice(0).map((server) => server.stop()));
});

describe('RollgateProvider through the OpenFeature server SDK', () => {
  it('resolves every type with reasons, variants, flag metadata and error codes', async () => {
    const server = await serve(23130);
    await OpenFeature.setProviderAndWait(
      'values',
      new RollgateProvider({ ...FAST, url: server.url }),
    );
    const client = OpenFeature.getClient('values');
    expect(client.providerStatus).toBe(ProviderStatus.READY);
    expect(client.metadata.providerMetadata.name).toBe('rollgate');

    const alice = { targetingKey: 'alice', country: 'NO' };
    const simple = await client.getBooleanDetails('simple', false, alice);
    expect(simple).toMatchObject({
      value: true,
      variant: 'on',
      reason: StandardResolutionReasons.STATIC,
      flagMetadata: { rulesetVersion: 1, stale: false, evaluationReason: 'DEFAULT' },
    });
    expect(simple.errorCode).toBeUndefined();

    // targetingKey is the userId: alice is on the allow list.
    expect(await client.getBooleanDetails('beta', false, alice)).toMatchObject({
      value: true,
      reason: StandardResolutionReasons.TARGETING_MATCH,
    });
    expect(await client.getBooleanDetails('killed', true, alice)).toMatchObject({
      value: false,
      variant: 'off',
      reason: StandardResolutionReasons.DISABLED,
    });
    const split = await client.getBooleanDetails('half', false, { targetingKey: 'u-3' });
    expect([StandardResolutionReasons.SPLIT, StandardResolutionReasons.DEFAULT]).toContain(
      split.reason,
    );
    expect(split.flagMetadata['bucket']).toEqual(expect.any(Number));
    expect(split.value).toBe(split.reason === StandardResolutionReasons.SPLIT);

    const banner = await client.getStringDetails('banner', 'none', alice);
    expect(banner.value).toBe(banner.variant === 'blue' ? '#0000ff' : '#ff0000');
    expect(await client.getNumberValue('upload-limit', 1, alice)).toBe(50);
    expect(await client.getObjectValue('layout', {}, alice)).toEqual({ columns: 3, dense: true });

    expect(await client.getBooleanDetails('missing', true, alice)).toMatchObject({
      value: true,
      reason: StandardResolutionReasons.ERROR,
      errorCode: ErrorCode.FLAG_NOT_FOUND,
    });
    expect(await client.getNumberDetails('banner', 3, alice)).toMatchObject({
      value: 3,
      reason: StandardResolutionReasons.ERROR,
      errorCode: ErrorCode.TYPE_MISMATCH,
    });
    expect(await client.getStringDetails('banner', 'none', { country: 'NO' })).toMatchObject({
      value: 'none',
      errorCode: ErrorCode.TARGETING_KEY_MISSING,
    });
    expect(
      await client.getBooleanDetails('simple', true, { targetingKey: 'a', age: Number.NaN }),
    ).toMatchObject({ value: true, errorCode: ErrorCode.INVALID_CONTEXT });
    // Structures and dates in an OpenFeature context are fine: dates become text, structures are ignored.
    expect(
      await client.getBooleanDetails('simple', false, {
        targetingKey: 'a',
        signedUpAt: new Date(0),
        address: { city: 'Oslo' },
      }),
    ).toMatchObject({ value: true, reason: StandardResolutionReasons.STATIC });
  });

  it('agrees with the client on the rule + rollout flag, user by user', async () => {
    const server = await serve(23131);
    const provider = new RollgateProvider({ ...FAST, url: server.url });
    await OpenFeature.setProviderAndWait('agree', provider);
    const client = OpenFeature.getClient('agree');
    for (let i = 0; i < 300; i++) {
      const country = ['NO', 'DE'][i % 2]!;
      const details = await client.getBooleanDetails('new-checkout', false, {
        targetingKey: `u-${i}`,
        country,
      });
      expect(details.value).toBe(
        provider.client.isEnabled('new-checkout', { userId: `u-${i}`, country }),
      );
      if (country === 'DE') expect(details.reason).toBe(StandardResolutionReasons.DEFAULT);
    }
  });

  it('emits ConfigurationChanged, Stale and Ready as the service changes, goes down and returns', async () => {
    const server = await serve(23132);
    await OpenFeature.setProviderAndWait(
      'events',
      new RollgateProvider({ ...FAST, url: server.url }),
    );
    const client = OpenFeature.getClient('events');
    const seen: string[] = [];
    const changed: EventDetails[] = [];
    client.addHandler(ProviderEvents.ConfigurationChanged, (details) => {
      seen.push('changed');
      changed.push(details!);
    });
    client.addHandler(ProviderEvents.Stale, () => seen.push('stale'));
    client.addHandler(ProviderEvents.Ready, () => seen.push('ready'));
    await until(() => seen.includes('ready'), 'the handler for the current READY state to run');
    seen.length = 0;
    await until(() => server.openStreams === 1, 'the stream to open');

    server.publish({ flags: withKilled(fixtureFlags, 'new-checkout') });
    await until(() => seen.includes('changed'), 'PROVIDER_CONFIGURATION_CHANGED');
    expect(changed[0]).toMatchObject({
      providerName: 'rollgate',
      flagsChanged: ['new-checkout'],
      metadata: { rulesetVersion: 2, previousRulesetVersion: 1 },
    });
    expect(
      await client.getBooleanDetails('new-checkout', true, { targetingKey: 'u' }),
    ).toMatchObject({
      value: false,
      reason: StandardResolutionReasons.DISABLED,
      flagMetadata: { rulesetVersion: 2 },
    });

    await server.stop();
    await until(() => seen.includes('stale'), 'PROVIDER_STALE');
    expect(client.providerStatus).toBe(ProviderStatus.STALE);
    // Still serving the last known ruleset, marked stale.
    expect(await client.getBooleanDetails('simple', false, { targetingKey: 'u' })).toMatchObject({
      value: true,
      flagMetadata: { rulesetVersion: 2, stale: true },
    });

    await server.start();
    await until(() => client.providerStatus === ProviderStatus.READY, 'READY again');
    expect(seen).toEqual(['changed', 'stale', 'ready']);
  });

  it('can be set again after it was shut down, starting over with a new client', async () => {
    const server = await serve(23134);
    const provider = new RollgateProvider({ ...FAST, url: server.url });
    await OpenFeature.setProviderAndWait('again', provider);
    const first = provider.client;
    await OpenFeature.clearProviders(); // shuts every provider down and unregisters it
    expect(first.status).toBe('CLOSED');

    server.publish({ flags: withKilled(fixtureFlags, 'simple') });
    await OpenFeature.setProviderAndWait('again', provider);
    expect(provider.client).not.toBe(first);
    const client = OpenFeature.getClient('again');
    expect(client.providerStatus).toBe(ProviderStatus.READY);
    expect(await client.getBooleanDetails('simple', true, { targetingKey: 'u' })).toMatchObject({
      value: false,
      reason: StandardResolutionReasons.DISABLED,
      flagMetadata: { rulesetVersion: 2 },
    });
  });

  it('leaves a client it was given open on close', async () => {
    const server = await serve(23135);
    const flags = new FlagsClient({ ...FAST, url: server.url });
    await OpenFeature.setProviderAndWait('given', new RollgateProvider(flags));
    await OpenFeature.close();
    expect(flags.status).toBe('READY');
    expect(flags.isEnabled('simple', { userId: 'u' })).toBe(true);
    await flags.close();
  });

  it('fails initialisation while the service is down (PROVIDER_ERROR), then becomes READY when it is up', async () => {
    const provider = new RollgateProvider({
      ...FAST,
      url: 'http://127.0.0.1:23133',
      initialTimeoutMs: 300,
    });
    await expect(OpenFeature.setProviderAndWait('late', provider)).rejects.toThrow(/no ruleset/);
    const client = OpenFeature.getClient('late');
    expect(client.providerStatus).toBe(ProviderStatus.ERROR);
    expect(await client.getBooleanDetails('simple', false, { targetingKey: 'u' })).toMatchObject({
      value: false,
      reason: StandardResolutionReasons.ERROR,
      errorCode: ErrorCode.PROVIDER_NOT_READY,
    });

    const ready = new Promise<void>((resolve) =>
      client.addHandler(ProviderEvents.Ready, () => resolve()),
    );
    await serve(23133);
    await ready;
    expect(client.providerStatus).toBe(ProviderStatus.READY);
    expect(await client.getBooleanValue('simple', false, { targetingKey: 'u' })).toBe(true);
  });
});
