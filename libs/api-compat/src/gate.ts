import { compareOperation, usesOf, type Break } from './compare';
import type { ConsumedOperation, ConsumerContract, ProvidedApi } from './model';

/** A build of a service: the version people read, and how many instances of it are live. */
export interface Party {
  service: string;
  version: string;
  instances: number;
}

/** A live (or new) provider build and the API it declares; null when it declares none. */
export interface ProviderBuild {
  party: Party;
  api: ProvidedApi | null;
}

/** A live (or new) consumer build and the contract it declares; null when it declares none. */
export interface ConsumerBuild {
  party: Party;
  contract: ConsumerContract | null;
}

export interface Finding extends Break {
  provider: Party;
  consumer: Party;
  /** `orders 2.0 removes GET /orders/{id} response field "total", read by checkout 1.4 running on 3 instances` */
  message: string;
}

export interface GateReport {
  findings: Finding[];
  /** What could not be checked, and why. */
  notes: string[];
}

const running = (party: Party) =>
  `running on ${party.instances} instance${party.instances === 1 ? '' : 's'}`;
const named = (party: Party) => `${party.service} ${party.version}`;
const field = (b: Break) => `request field "${b.field}"`;
const answer = (b: Break) => `response field "${b.field}"`;

/** The sentence for a new provider version: what it takes away, from which live consumer. */
function providerSentence(b: Break, provider: Party, consumer: Party): string {
  const by = (verb: string) => `${verb} by ${named(consumer)} ${running(consumer)}`;
  const op = b.operation;
  switch (b.kind) {
    case 'operation-missing':
      return `${named(provider)} removes ${op}, ${by('called')}`;
    case 'response-field-missing':
      return `${named(provider)} removes ${op} ${answer(b)}, ${by('read')}`;
    case 'response-type-mismatch':
    case 'response-type-changed':
      return `${named(provider)} changes the type of ${op} ${answer(b)} (${b.detail}), ${by('read')}`;
    case 'request-field-not-accepted':
      return `${named(provider)} no longer accepts ${op} ${field(b)}, ${by('sent')}`;
    case 'request-field-required':
      return `${named(provider)} requires ${op} ${field(b)}, ${by('not sent')}`;
    case 'request-type-mismatch':
    case 'request-type-narrowed':
      return `${named(provider)} narrows the type of ${op} ${field(b)} (${b.detail}), ${by('sent')}`;
    case 'request-value-not-accepted':
    case 'request-enum-narrowed':
      return `${named(provider)} removes the value ${b.detail} of ${op} ${field(b)}, ${by('sent')}`;
  }
}

/** The sentence for a new consumer version: what it needs that a live provider lacks. */
function consumerSentence(b: Break, consumer: Party, provider: Party): string {
  const which = `${named(provider)} (${running(provider)})`;
  const op = b.operation;
  switch (b.kind) {
    case 'operation-missing':
      return `${named(consumer)} calls ${op} of ${provider.service}, which ${which} does not offer`;
    case 'response-field-missing':
      return `${named(consumer)} reads ${op} ${answer(b)}, which ${which} does not return`;
    case 'response-type-mismatch':
    case 'response-type-changed':
      return `${named(consumer)} reads ${op} ${answer(b)} as another type than ${which} returns (${b.detail})`;
    case 'request-field-not-accepted':
      return `${named(consumer)} sends ${op} ${field(b)}, which ${which} does not accept`;
    case 'request-field-required':
      return `${named(consumer)} does not send ${op} ${field(b)}, which ${which} requires`;
    case 'request-type-mismatch':
    case 'request-type-narrowed':
      return `${named(consumer)} sends ${op} ${field(b)} as a type ${which} does not accept (${b.detail})`;
    case 'request-value-not-accepted':
    case 'request-enum-narrowed':
      return `${named(consumer)} sends ${op} ${field(b)} = ${b.detail}, which ${which} does not accept`;
  }
}

/**
 * A new provider version against every live consumer version that calls its service: each use must
 * still be served, and nothing it uses may be narrowed from what the live provider versions
 * (`live`, same service) offer now. Also the check of a rollback (the stable API is `next`).
 */
export function checkProvider(
  next: ProviderBuild,
  live: readonly ProviderBuild[],
  consumers: readonly ConsumerBuild[],
): GateReport {
  const service = next.party.service;
  const calling = consumers
    .map((c) => ({ consumer: c, uses: c.contract ? usesOf(c.contract, service) : [] }))
    .filter(({ uses }) => uses.length > 0);
  const undeclared = consumers.filter((c) => c.contract === null).length;
  const notes =
    undeclared > 0
      ? [`${undeclared} live build(s) declare no consumer contract: their calls were not checked`]
      : [];
  if (next.api === null) {
    const note = `${named(next.party)} declares no API: ${calling.length} live consumer version(s) that call ${service} were not checked`;
    return { findings: [], notes: calling.length > 0 ? [note, ...notes] : notes };
  }
  const api = next.api;
  const baseline = live.flatMap((p) => (p.api ? [p.api] : []));
  const findings = calling.flatMap(({ consumer, uses }) =>
    uses.flatMap((use) =>
      compareOperation(api, use, baseline).map((b) => ({
        ...b,
        provider: next.party,
        consumer: consumer.party,
        message: providerSentence(b, next.party, consumer.party),
      })),
    ),
  );
  return { findings, notes };
}

/**
 * A new consumer version against the provider versions that are live: while several versions of a
 * provider run, a call may reach any of them, so every one must serve it. A provider that runs
 * nowhere serves nothing (the consumer-first ordering mistake).
 */
export function checkConsumer(
  next: ConsumerBuild,
  providers: readonly ProviderBuild[],
): GateReport {
  if (next.contract === null) return { findings: [], notes: [] };
  const byService = new Map<string, ConsumedOperation[]>();
  for (const use of next.contract.uses)
    byService.set(use.service, [...(byService.get(use.service) ?? []), use]);
  const findings: Finding[] = [];
  const notes: string[] = [];
  for (const [service, uses] of byService) {
    const live = providers.filter((p) => p.party.service === service);
    if (live.length === 0) {
      const nowhere: Party = { service, version: '(none)', instances: 0 };
      for (const use of uses)
        findings.push({
          kind: 'operation-missing',
          operation: `${use.method} ${use.path}`,
          provider: nowhere,
          consumer: next.party,
          message: `${named(next.party)} calls ${use.method} ${use.path} of ${service}, which has no live instance`,
        });
      continue;
    }
    for (const provider of live) {
      if (provider.api === null) {
        notes.push(
          `${named(provider.party)} (${running(provider.party)}) declares no API: calls to it were not checked`,
        );
        continue;
      }
      for (const use of uses)
        for (const b of compareOperation(provider.api, use))
          findings.push({
            ...b,
            provider: provider.party,
            consumer: next.party,
            message: consumerSentence(b, next.party, provider.party),
          });
    }
  }
  return { findings, notes };
}
