import { SERVICE_NAME_PATTERN } from '@rollgate/contracts';
import {
  BackendInstance,
  GroupBackends,
  GroupWeights,
  InvalidRouteTableError,
  RouteTable,
  VERSION_GROUPS,
  VersionGroup,
} from './port';

const serviceNamePattern = new RegExp(SERVICE_NAME_PATTERN);
// RFC 9110 token characters; header names are compared lower-cased.
const headerNamePattern = /^[!#$%&'*+.^_`|~0-9a-z-]+$/i;

export function isServiceName(name: unknown): name is string {
  return typeof name === 'string' && serviceNamePattern.test(name);
}

export function isHeaderName(name: unknown): name is string {
  return typeof name === 'string' && headerNamePattern.test(name);
}

function isVersionGroup(name: string): name is VersionGroup {
  return (VERSION_GROUPS as readonly string[]).includes(name);
}

/** Throws {@link InvalidRouteTableError} naming every broken rule; returns normally otherwise. */
export function validateRouteTable(table: RouteTable): void {
  if (typeof table !== 'object' || table === null) {
    throw new InvalidRouteTableError(String(table), ['the table must be an object']);
  }
  const problems = [
    ...serviceProblems(table),
    ...weightProblems(table.weights),
    ...backendProblems(table),
    ...stickyProblems(table),
  ];
  if (problems.length > 0) {
    throw new InvalidRouteTableError(String(table.service), problems);
  }
}

function serviceProblems(table: RouteTable): string[] {
  if (!isServiceName(table.service)) {
    return [`service must match ${SERVICE_NAME_PATTERN}`];
  }
  return [];
}

function weightProblems(weights: GroupWeights | undefined): string[] {
  if (typeof weights !== 'object' || weights === null) return ['weights must be an object'];
  const problems: string[] = [];
  let sum = 0;
  for (const [group, weight] of Object.entries(weights)) {
    if (!isVersionGroup(group)) {
      problems.push(
        `weights.${group}: unknown group (expected one of ${VERSION_GROUPS.join(', ')})`,
      );
    } else if (!Number.isInteger(weight) || weight < 0 || weight > 100) {
      problems.push(`weights.${group} must be an integer from 0 to 100, got ${String(weight)}`);
    } else {
      sum += weight;
    }
  }
  if (problems.length === 0 && sum !== 100) problems.push(`weights must sum to 100, got ${sum}`);
  return problems;
}

function backendProblems(table: RouteTable): string[] {
  const backends: GroupBackends | undefined = table.backends;
  if (typeof backends !== 'object' || backends === null) return ['backends must be an object'];
  const problems: string[] = [];
  const seenIds = new Set<string>();
  const seenAddresses = new Set<string>();
  for (const [group, instances] of Object.entries(backends)) {
    if (!isVersionGroup(group)) {
      problems.push(`backends.${group}: unknown group`);
      continue;
    }
    if (!Array.isArray(instances)) {
      problems.push(`backends.${group} must be an array`);
      continue;
    }
    instances.forEach((instance, index) => {
      const where = `backends.${group}[${index}]`;
      problems.push(...instanceProblems(where, instance));
      if (seenIds.has(instance?.id)) problems.push(`${where}: id '${instance.id}' is listed twice`);
      seenIds.add(instance?.id);
      const address = `${instance?.host}:${instance?.port}`;
      if (seenAddresses.has(address)) problems.push(`${where}: ${address} is listed twice`);
      seenAddresses.add(address);
    });
  }
  for (const group of VERSION_GROUPS) {
    if ((table.weights?.[group] ?? 0) > 0 && (backends[group]?.length ?? 0) === 0) {
      problems.push(`group ${group} has weight ${table.weights[group]} but no backends`);
    }
  }
  return problems;
}

function instanceProblems(where: string, instance: BackendInstance): string[] {
  if (typeof instance !== 'object' || instance === null) return [`${where} must be an object`];
  const problems: string[] = [];
  if (typeof instance.id !== 'string' || instance.id.length === 0) {
    problems.push(`${where}.id must be a non-empty string`);
  }
  if (typeof instance.host !== 'string' || instance.host.length === 0) {
    problems.push(`${where}.host must be a non-empty string`);
  }
  if (!Number.isInteger(instance.port) || instance.port < 1 || instance.port > 65535) {
    problems.push(`${where}.port must be an integer from 1 to 65535, got ${String(instance.port)}`);
  }
  return problems;
}

function stickyProblems(table: RouteTable): string[] {
  if (table.sticky === undefined) return [];
  if (!isHeaderName(table.sticky?.header)) {
    return ['sticky.header must be an HTTP header name'];
  }
  return [];
}

/** All five groups with their weight, 0 where the table leaves a group out. */
export function fullWeights(weights: GroupWeights): Record<VersionGroup, number> {
  return Object.fromEntries(VERSION_GROUPS.map((group) => [group, weights[group] ?? 0])) as Record<
    VersionGroup,
    number
  >;
}

/** The groups that have instances, in canonical order, with their instances. */
export function groupsWithBackends(
  backends: GroupBackends,
): Array<[VersionGroup, BackendInstance[]]> {
  return VERSION_GROUPS.flatMap((group) => {
    const instances = backends[group] ?? [];
    return instances.length > 0 ? [[group, instances] as [VersionGroup, BackendInstance[]]] : [];
  });
}

/** A deep copy with lower-cased sticky header and no empty groups, so later edits by the caller cannot leak in. */
export function normalizedTable(table: RouteTable): RouteTable {
  const backends: GroupBackends = {};
  for (const [group, instances] of groupsWithBackends(table.backends)) {
    backends[group] = instances.map(({ id, host, port }) => ({ id, host, port }));
  }
  return {
    service: table.service,
    weights: fullWeights(table.weights),
    backends,
    ...(table.sticky ? { sticky: { header: table.sticky.header.toLowerCase() } } : {}),
  };
}
