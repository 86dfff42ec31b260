import { GroupBackends, VersionGroup } from '../port';
import { ServerState, isServing } from './runtime-api';
import { sharesFromServerWeights } from './server-weights';
import { SlotTable, slotName } from './slots';

/**
 * Runtime API commands that point slots at their instances, for slots whose live address differs.
 * Each must be sent on its own: HAProxy answers them with text even on success.
 */
export function addressCommands(backend: string, slots: SlotTable, live: ServerState[]): string[] {
  return slots.flatMap((slot, index) => {
    if (!slot) return [];
    const row = live.find((state) => state.name === slotName(index));
    if (row && row.address === slot.instance.host && row.port === slot.instance.port) return [];
    const { host, port } = slot.instance;
    return [`set server ${backend}/${slotName(index)} addr ${host} port ${port}`];
  });
}

/** True when HAProxy's answer to a `set server ... addr` says the change happened. */
export function addressChangeAccepted(answer: string): boolean {
  return /changed|no need to change/i.test(answer);
}

/**
 * Weights first, then readiness, then maintenance for free slots: a new slot has its weight
 * before it takes traffic. These commands print nothing on success, so they go in one round trip.
 */
export function weightAndStateCommands(backend: string, slots: SlotTable): string[] {
  const server = (index: number) => `${backend}/${slotName(index)}`;
  const weights = slots.map((slot, i) => `set weight ${server(i)} ${slot?.weight ?? 0}`);
  const ready = slots.flatMap((slot, i) => (slot ? [`set server ${server(i)} state ready`] : []));
  const idle = slots.flatMap((slot, i) => (slot ? [] : [`set server ${server(i)} state maint`]));
  return [...weights, ...ready, ...idle];
}

/** What HAProxy's live server state says about the route, and where it differs from the slot plan. */
export interface RouteReadBack {
  weights: Record<VersionGroup, number>;
  backends: GroupBackends;
  problems: string[];
}

/** Reads the route out of `show servers state`: only serving slots count towards the shares. */
export function readRoute(slots: SlotTable, live: ServerState[]): RouteReadBack {
  const problems: string[] = [];
  const backends: GroupBackends = {};
  const serverWeights: Partial<Record<VersionGroup, number[]>> = {};
  slots.forEach((slot, index) => {
    const name = slotName(index);
    const row = live.find((state) => state.name === name);
    if (!row) return problems.push(`server ${name} is missing`);
    if (!slot) {
      if (isServing(row) && row.weight > 0) problems.push(`${name} serves but holds no instance`);
      return;
    }
    const where = `${name} (${slot.group} ${slot.instance.id})`;
    if (row.address !== slot.instance.host || row.port !== slot.instance.port) {
      problems.push(
        `${where} points at ${row.address}:${row.port}, expected ${slot.instance.host}:${slot.instance.port}`,
      );
    }
    if (row.weight !== slot.weight)
      problems.push(`${where} has weight ${row.weight}, expected ${slot.weight}`);
    if (!isServing(row)) {
      problems.push(
        `${where} is not serving (op ${row.operationalState}, admin ${row.administrativeState})`,
      );
      return;
    }
    (backends[slot.group] ??= []).push({ id: slot.instance.id, host: row.address, port: row.port });
    (serverWeights[slot.group] ??= []).push(row.weight);
  });
  return { weights: sharesFromServerWeights(serverWeights), backends, problems };
}
