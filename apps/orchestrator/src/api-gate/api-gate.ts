import { Inject, Injectable } from '@nestjs/common';
import {
  checkConsumer,
  checkProvider,
  type ConsumerBuild,
  type GateReport,
  type Party,
  type ProviderBuild,
} from '@rollgate/api-compat';
import type { ApiGateVerdict, ConsumerContractV1, ProvidedApiV1 } from '@rollgate/contracts';
import { SERVICE_RUNTIME, type ServiceRuntime } from '@rollgate/platform';
import { assertRunsTheFleet, FLEET_MANAGER, FleetManager } from '../rollout/fleet-manager';
import { ApiDocuments } from './api-documents';

/** What a build declares, resolved from its digests (or parsed from a request). */
export interface DeclaredApi {
  provides: ProvidedApiV1 | null;
  consumes: ConsumerContractV1 | null;
}

export interface GateAnswer {
  verdict: ApiGateVerdict;
  findings: string[];
  notes: string[];
}

/** The builds that are live, as the fleet reports them, each with the documents it declares. */
interface LiveBuilds {
  providers: ProviderBuild[];
  consumers: ConsumerBuild[];
  notes: string[];
}

/**
 * The API compatibility gate over what actually runs: the orchestrator owns the fleet, so it asks
 * its own instances which documents they run (like the flags guard asks it over HTTP) and compares
 * with the pure functions of @rollgate/api-compat.
 */
@Injectable()
export class ApiGate {
  constructor(
    private readonly documents: ApiDocuments,
    @Inject(FLEET_MANAGER) private readonly fleet: FleetManager,
    @Inject(SERVICE_RUNTIME) private readonly runtime: ServiceRuntime,
  ) {}

  /** The documents of an artifact, by the digests its release recorded. */
  async resolve(api: { provides?: string; consumes?: string } | undefined): Promise<DeclaredApi> {
    return {
      provides: await this.documents.provided(api?.provides),
      consumes: await this.documents.consumed(api?.consumes),
    };
  }

  /** A new build of `service`: as a provider against live consumers, as a consumer against live providers. */
  async checkRelease(service: string, version: string, declared: DeclaredApi): Promise<GateAnswer> {
    if (!declared.provides && !declared.consumes)
      return { verdict: 'unchecked', findings: [], notes: ['the build declares no API documents'] };
    const live = await this.live();
    const party: Party = { service, version, instances: 0 };
    const reports: GateReport[] = [];
    if (declared.provides)
      reports.push(
        checkProvider(
          { party, api: declared.provides },
          live.providers.filter((p) => p.party.service === service),
          live.consumers,
        ),
      );
    if (declared.consumes)
      reports.push(checkConsumer({ party, contract: declared.consumes }, live.providers));
    return answer(reports, live.notes);
  }

  /** Going back to the stable build of `service`: its API against the consumers live now. */
  async checkRollback(service: string, stable: { version: string; api: ProvidedApiV1 | null }) {
    const live = await this.live();
    const report = checkProvider(
      { party: { service, version: stable.version, instances: 0 }, api: stable.api },
      live.providers.filter((p) => p.party.service === service),
      live.consumers,
    );
    return answer([report], live.notes);
  }

  private async live(): Promise<LiveBuilds> {
    assertRunsTheFleet(this.runtime.config);
    const observed = await this.fleet.driver.observe();
    const groups = new Map<
      string,
      { party: Party; provides: string | null; consumes: string | null }
    >();
    let silent = 0;
    for (const instance of observed) {
      if (!instance.reported) {
        silent++;
        continue;
      }
      const { version, api } = instance.reported;
      const key = JSON.stringify([instance.service, version, api.provides, api.consumes]);
      const group = groups.get(key) ?? {
        party: { service: instance.service, version, instances: 0 },
        provides: api.provides,
        consumes: api.consumes,
      };
      group.party.instances++;
      groups.set(key, group);
    }
    const builds = await Promise.all(
      [...groups.values()].map(async (g) => ({
        party: g.party,
        api: await this.documents.provided(g.provides),
        contract: await this.documents.consumed(g.consumes),
      })),
    );
    return {
      providers: builds.map(({ party, api }) => ({ party, api })),
      consumers: builds.map(({ party, contract }) => ({ party, contract })),
      notes:
        silent > 0 ? [`${silent} instance(s) did not report their build and were not checked`] : [],
    };
  }
}

function answer(reports: GateReport[], notes: string[]): GateAnswer {
  const findings = [...new Set(reports.flatMap((r) => r.findings.map((f) => f.message)))];
  return {
    verdict: findings.length > 0 ? 'breaking' : 'compatible',
    findings,
    notes: [...new Set([...reports.flatMap((r) => r.notes), ...notes])],
  };
}
