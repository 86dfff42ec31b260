import { Inject, Injectable, NotFoundException, ServiceUnavailableException } from '@nestjs/common';
import { LessThanOrEqual, type EntityManager } from 'typeorm';
import {
  canonicalJson,
  type CanaryConfigChangedV1,
  type CanaryConfigRefV1,
} from '@rollgate/contracts';
import { inTransaction, recordWrites } from '@rollgate/persistence';
import {
  decodeDocument,
  invalidFields,
  SERVICE_RUNTIME,
  type ServiceRuntime,
} from '@rollgate/platform';
import { CanaryConfigVersionEntity } from './canary-config-version.entity';
import { validateCanaryConfig, type CanaryConfig } from './canary-config';
import { PromqlCheck, PrometheusUnavailableError } from './promql-check';

const CONFIG_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

const invalid = invalidFields;

export const canaryConfigStream = (name: string) => `canary-config-${name}`;

/** One stored version, as the API shows it. */
export interface CanaryConfigVersion {
  name: string;
  version: number;
  appliedAt: string;
  appliedBy: string;
  config: CanaryConfig;
}

/** A config version that judges a run, with its document. */
export interface ResolvedCanaryConfig {
  ref: CanaryConfigRefV1;
  config: CanaryConfig;
}

const toVersion = (row: CanaryConfigVersionEntity): CanaryConfigVersion => ({
  name: row.name,
  version: row.version,
  appliedAt: row.appliedAt,
  appliedBy: row.appliedBy,
  config: JSON.parse(row.document) as CanaryConfig,
});

/** The name from a URL: 400 naming it unless it is a service-style name. */
export function checkConfigName(name: string): string {
  if (!CONFIG_NAME.test(name))
    throw invalid([{ field: 'name', problem: 'must be lowercase letters, digits and dashes' }]);
  return name;
}

export const decodeConfig = (raw: unknown): unknown => decodeDocument(raw, 'config');

/**
 * Canary configs: each apply that changes something is a CanaryConfigChanged event on the
 * stream `canary-config-<name>` and a row of canary_config_versions, in one transaction.
 * Nothing is stored unless the whole document is valid, PromQL included.
 */
@Injectable()
export class CanaryConfigsService {
  private readonly promql: PromqlCheck | null;
  /** Versions never change once stored: the runner reads each one once. */
  private readonly versionCache = new Map<string, CanaryConfig>();

  constructor(@Inject(SERVICE_RUNTIME) private readonly runtime: ServiceRuntime) {
    const url = runtime.config.analysis.prometheusUrl;
    this.promql = url ? new PromqlCheck(url) : null;
  }

  /**
   * Validates and stores a new version; the same document as the current one stores nothing.
   * `dryRun`: validates only and says whether it would change anything (a service policy checks
   * its inline config this way before it stores anything).
   */
  async apply(
    name: string,
    raw: unknown,
    actor: string,
    dryRun = false,
  ): Promise<{ name: string; version: number; changed: boolean; eventIds: string[] }> {
    checkConfigName(name);
    const { config, problems } = validateCanaryConfig(decodeConfig(raw));
    if (config && config.name !== undefined && config.name !== name)
      problems.push({ field: 'name', problem: `is "${config.name}" but the URL names "${name}"` });
    if (!config || problems.length > 0) throw invalid(problems);
    if (this.promql) {
      const rejected = await this.promql.problems(config, name).catch((error: unknown) => {
        if (error instanceof PrometheusUnavailableError)
          throw new ServiceUnavailableException(error.message);
        throw error;
      });
      if (rejected.length > 0) throw invalid(rejected);
    }
    const document = { ...config, name };
    if (dryRun) {
      const current = await this.latest(this.runtime.dataSource.manager, name);
      const same = current !== null && canonicalJson(current.config) === canonicalJson(document);
      return {
        name,
        version: same ? current.version : (current?.version ?? 0) + 1,
        changed: !same,
        eventIds: [],
      };
    }
    const streamId = canaryConfigStream(name);
    const outcome = await inTransaction(this.runtime.dataSource, async (manager) => {
      const history = await this.runtime.eventStore.load(streamId, manager);
      const current = await this.latest(manager, name);
      if (current && canonicalJson(current.config) === canonicalJson(document))
        return { version: current.version, events: [] };
      const data: CanaryConfigChangedV1 = {
        name,
        version: (current?.version ?? 0) + 1,
        ...(current && { before: current.config as unknown as Record<string, unknown> }),
        after: document as unknown as Record<string, unknown>,
      };
      const events = await this.runtime.eventStore.appendInTransaction(
        manager,
        streamId,
        history.length,
        [
          {
            type: 'CanaryConfigChanged',
            version: 1,
            actor,
            correlationId: `canary-config:${name}`,
            causationId: null,
            key: name,
            data,
          },
        ],
      );
      await manager.insert(CanaryConfigVersionEntity, {
        name,
        version: data.version,
        document: JSON.stringify(document),
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
    return {
      name,
      version: outcome.version,
      changed: outcome.events.length > 0,
      eventIds: outcome.events.map((e) => e.id),
    };
  }

  /** The version in force at `at` (default now); 404 if there was none. */
  async get(name: string, at?: string): Promise<CanaryConfigVersion> {
    checkConfigName(name);
    const found = await this.inForce(name, at ?? new Date().toISOString());
    if (!found)
      throw new NotFoundException(
        at ? `canary config ${name} had no version at ${at}` : `canary config ${name} not found`,
      );
    return found;
  }

  /** Every version, oldest first; 404 for a config never applied. */
  async versions(name: string): Promise<CanaryConfigVersion[]> {
    checkConfigName(name);
    const rows = await this.runtime.dataSource.manager.find(CanaryConfigVersionEntity, {
      where: { name },
      order: { version: 'ASC' },
    });
    if (rows.length === 0) throw new NotFoundException(`canary config ${name} not found`);
    return rows.map(toVersion);
  }

  /**
   * The config that judges a release of `service` started at `at`: the one the request names,
   * else the one named after the service; null (the built-in defaults) if it had no version then.
   */
  async resolve(
    manager: EntityManager,
    service: string,
    named: string | undefined,
    at: string,
  ): Promise<ResolvedCanaryConfig | null> {
    const found = await this.inForce(named ?? service, at, manager);
    return found && { ref: { name: found.name, version: found.version }, config: found.config };
  }

  /** One stored version; null if it does not exist. */
  async version(ref: CanaryConfigRefV1): Promise<CanaryConfig | null> {
    const key = `${ref.name}@${ref.version}`;
    const cached = this.versionCache.get(key);
    if (cached) return cached;
    const row = await this.runtime.dataSource.manager.findOneBy(CanaryConfigVersionEntity, {
      name: ref.name,
      version: ref.version,
    });
    if (!row) return null;
    const config = toVersion(row).config;
    this.versionCache.set(key, config);
    return config;
  }

  private async inForce(
    name: string,
    at: string,
    manager: EntityManager = this.runtime.dataSource.manager,
  ): Promise<CanaryConfigVersion | null> {
    const row = await manager.findOne(CanaryConfigVersionEntity, {
      where: { name, appliedAt: LessThanOrEqual(at) },
      order: { version: 'DESC' },
    });
    return row ? toVersion(row) : null;
  }

  private async latest(manager: EntityManager, name: string): Promise<CanaryConfigVersion | null> {
    const row = await manager.findOne(CanaryConfigVersionEntity, {
      where: { name },
      order: { version: 'DESC' },
    });
    return row ? toVersion(row) : null;
  }
}
