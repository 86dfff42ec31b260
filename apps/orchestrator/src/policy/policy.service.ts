import { Inject, Injectable, NotFoundException } from '@nestjs/common';
import { LessThanOrEqual, type EntityManager } from 'typeorm';
import {
  canonicalJson,
  SERVICE_NAME_PATTERN,
  type ServicePolicyChangedV1,
} from '@rollgate/contracts';
import { inTransaction, recordWrites } from '@rollgate/persistence';
import {
  decodeDocument,
  invalidFields,
  SERVICE_RUNTIME,
  type ServiceRuntime,
} from '@rollgate/platform';
import {
  documentChanges,
  inlineCanaryConfig,
  validateServicePolicy,
  type DocumentChange,
  type PolicyInForce,
  type PolicyProblem,
  type ServicePolicy,
} from '@rollgate/releases';
import { secretFingerprint } from '../webhooks/subscriptions.service';
import { CanaryConfigClient } from './canary-config-client';
import { ServicePolicyVersionEntity } from './service-policy-version.entity';

const SERVICE_NAME = new RegExp(SERVICE_NAME_PATTERN);

const invalid = invalidFields;

export const servicePolicyStream = (service: string) => `service-policy:${service}`;

/** One stored version, as the API shows it. */
export interface ServicePolicyVersion {
  service: string;
  version: number;
  appliedAt: string;
  appliedBy: string;
  policy: ServicePolicy;
}

/** What an apply (or its dry run) did or would do. */
export interface PolicyApplied {
  service: string;
  /** The version in force after it (the next one, for a dry run that changes something). */
  version: number;
  changed: boolean;
  changes: DocumentChange[];
  /** The inline canary config's version and whether it changed; absent without one. */
  canaryConfig?: { name: string; version: number; changed: boolean };
  eventIds: string[];
}

const toVersion = (row: ServicePolicyVersionEntity): ServicePolicyVersion => ({
  service: row.service,
  version: row.version,
  appliedAt: row.appliedAt,
  appliedBy: row.appliedBy,
  policy: JSON.parse(row.document) as ServicePolicy,
});

/**
 * A notification URL can itself be a credential (a Slack webhook URL): like a webhook
 * subscription's event, the stored policy (its event, its API) keeps only the URL's origin and a
 * fingerprint of the whole URL, which still changes when the URL does.
 */
function withoutCredentials(policy: ServicePolicy): ServicePolicy {
  if (!policy.notifications) return policy;
  return {
    ...policy,
    notifications: policy.notifications.map((target) => ({
      ...target,
      url: new URL(target.url).origin,
      urlFingerprint: secretFingerprint(target.url),
    })),
  };
}

/** The service from a URL: 400 naming it unless it is a service name. */
function checkService(service: string): string {
  if (!SERVICE_NAME.test(service))
    throw invalid([{ field: 'service', problem: 'must be lowercase letters, digits and dashes' }]);
  return service;
}

export const decodePolicy = (raw: unknown): unknown => decodeDocument(raw, 'policy');

/**
 * Service policies (rollgate.yaml): each apply that changes something is a ServicePolicyChanged
 * event on the stream `service-policy:<service>` (key: the service, topic rollgate.releases) and a
 * row of service_policy_versions, in one transaction. Nothing is stored unless the whole
 * document, its inline canary config included, is valid.
 */
@Injectable()
export class PolicyService {
  private readonly canaryConfigs: CanaryConfigClient;

  constructor(@Inject(SERVICE_RUNTIME) private readonly runtime: ServiceRuntime) {
    this.canaryConfigs = new CanaryConfigClient(
      runtime.config.serviceUrls.analysis,
      runtime.config.token,
    );
  }

  /**
   * Validates, then (unless `dryRun`) applies the inline canary config and stores a new version.
   * The same document as the version in force stores nothing (`changed: false`).
   */
  async apply(
    service: string,
    raw: unknown,
    actor: string,
    options: { dryRun?: boolean; authorization?: string } = {},
  ): Promise<PolicyApplied> {
    checkService(service);
    const { policy, problems } = validateServicePolicy(decodePolicy(raw));
    if (policy && policy.service !== service)
      problems.push({
        field: 'service',
        problem: `is "${policy.service}" but the URL names "${service}"`,
      });
    const inline = policy ? inlineCanaryConfig(policy) : undefined;
    // The inline config is checked by its owner before anything is stored, with every problem.
    if (inline !== undefined) {
      const answer = await this.canaryConfigs.put(service, inline, {
        dryRun: true,
        ...(options.authorization && { authorization: options.authorization }),
      });
      if (!answer.ok) problems.push(...answer.problems);
    }
    const named = policy?.analysis && 'canaryConfig' in policy.analysis;
    if (named) {
      const problem = await this.canaryConfigProblem(
        policy.analysis!.canaryConfig as string,
        'analysis.canaryConfig',
        options.authorization,
      );
      if (problem) problems.push(problem);
    }
    if (!policy || problems.length > 0) throw invalid(problems);

    const stored = withoutCredentials(policy);
    const current = await this.latest(this.runtime.dataSource.manager, service);
    // A first version is compared with an empty document: each top-level part is "added".
    const changes = documentChanges(current?.policy ?? {}, stored);
    // Applied even when the policy is unchanged: the file, not a later canary-config apply, wins.
    const canaryConfig =
      inline === undefined
        ? undefined
        : await this.applyConfig(service, inline, options, options.dryRun ?? false);
    if (options.dryRun || changes.length === 0)
      return {
        service,
        version: changes.length === 0 ? current!.version : (current?.version ?? 0) + 1,
        changed: changes.length > 0,
        changes,
        ...(canaryConfig && { canaryConfig }),
        eventIds: [],
      };
    const outcome = await this.store(service, stored, actor);
    return {
      service,
      version: outcome.version,
      changed: outcome.eventIds.length > 0,
      changes: outcome.eventIds.length > 0 ? changes : [],
      ...(canaryConfig && { canaryConfig }),
      eventIds: outcome.eventIds,
    };
  }

  /**
   * A canary config named by a policy or a release must exist: a misspelt name would otherwise
   * leave the release to the built-in signals without anyone noticing.
   */
  async canaryConfigProblem(
    name: string,
    field: string,
    authorization?: string,
  ): Promise<PolicyProblem | null> {
    if (await this.canaryConfigs.exists(name, authorization)) return null;
    return {
      field,
      problem: `names canary config "${name}", which does not exist: apply it first (rollgate canary-config apply)`,
    };
  }

  private async applyConfig(
    service: string,
    config: Record<string, unknown>,
    options: { authorization?: string },
    dryRun: boolean,
  ): Promise<{ name: string; version: number; changed: boolean }> {
    const answer = await this.canaryConfigs.put(service, config, {
      dryRun,
      ...(options.authorization && { authorization: options.authorization }),
    });
    // Checked a moment ago; a config that turns invalid in between is still the caller's to fix.
    if (!answer.ok) throw invalid(answer.problems);
    return { name: service, version: answer.version, changed: answer.changed };
  }

  /** A new version unless the version in force (read again in the transaction) is the same. */
  private async store(
    service: string,
    policy: ServicePolicy,
    actor: string,
  ): Promise<{ version: number; eventIds: string[] }> {
    const streamId = servicePolicyStream(service);
    const outcome = await inTransaction(this.runtime.dataSource, async (manager) => {
      const history = await this.runtime.eventStore.load(streamId, manager);
      const current = await this.latest(manager, service);
      if (current && canonicalJson(current.policy) === canonicalJson(policy))
        return { version: current.version, events: [] };
      const data: ServicePolicyChangedV1 = {
        service,
        version: (current?.version ?? 0) + 1,
        ...(current && { before: current.policy as unknown as Record<string, unknown> }),
        after: policy as unknown as Record<string, unknown>,
      };
      const events = await this.runtime.eventStore.appendInTransaction(
        manager,
        streamId,
        history.length,
        [
          {
            type: 'ServicePolicyChanged',
            version: 1,
            actor,
            correlationId: `service-policy:${service}`,
            causationId: null,
            key: service,
            data,
          },
        ],
      );
      await manager.insert(ServicePolicyVersionEntity, {
        service,
        version: data.version,
        document: JSON.stringify(policy),
        appliedAt: events[0]!.occurredAt,
        appliedBy: actor,
        eventId: events[0]!.id,
      });
      return { version: data.version, events };
    });
    if (outcome.events.length > 0) {
      recordWrites(outcome.events);
      this.runtime.relay.kick();
    }
    return { version: outcome.version, eventIds: outcome.events.map((e) => e.id) };
  }

  /** The version in force at `at` (default now); 404 if there was none. */
  async get(service: string, at?: string): Promise<ServicePolicyVersion> {
    checkService(service);
    const found = await this.inForceAt(service, at ?? new Date().toISOString());
    if (!found)
      throw new NotFoundException(
        at ? `service ${service} had no policy at ${at}` : `service ${service} has no policy`,
      );
    return found;
  }

  /** Every version, oldest first; 404 for a service that never had a policy. */
  async versions(service: string): Promise<ServicePolicyVersion[]> {
    checkService(service);
    const rows = await this.runtime.dataSource.manager.find(ServicePolicyVersionEntity, {
      where: { service },
      order: { version: 'ASC' },
    });
    if (rows.length === 0) throw new NotFoundException(`service ${service} has no policy`);
    return rows.map(toVersion);
  }

  /** The policy a release requested now takes its defaults from; null without one. */
  async inForce(service: string): Promise<PolicyInForce | null> {
    const found = await this.latest(this.runtime.dataSource.manager, service);
    return found && { version: found.version, policy: found.policy };
  }

  private async inForceAt(service: string, at: string): Promise<ServicePolicyVersion | null> {
    const row = await this.runtime.dataSource.manager.findOne(ServicePolicyVersionEntity, {
      where: { service, appliedAt: LessThanOrEqual(at) },
      order: { version: 'DESC' },
    });
    return row ? toVersion(row) : null;
  }

  private async latest(
    manager: EntityManager,
    service: string,
  ): Promise<ServicePolicyVersion | null> {
    const row = await manager.findOne(ServicePolicyVersionEntity, {
      where: { service },
      order: { version: 'DESC' },
    });
    return row ? toVersion(row) : null;
  }
}
