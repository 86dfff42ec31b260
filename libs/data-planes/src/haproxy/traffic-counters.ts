import { randomUUID } from 'node:crypto';
import { VERSION_GROUPS, VersionGroup } from '../port';
import {
  GroupTrafficStats,
  LATENCY_BUCKET_BOUNDS_MS,
  ServiceTrafficStats,
} from '../embedded/traffic-stats';
import { SlotAssignment, SlotTable, slotName } from './slots';

/** Responses and 5xx errors one server slot has counted since HAProxy started. */
export interface ServerCounts {
  responses: number;
  errors: number;
}

/**
 * Parses `show stat` CSV (`# pxname,svname,...` then one row per proxy or server) into counts per
 * server name. A response is any HTTP status class; an error is a 5xx or a response HAProxy could
 * not read from the server (`eresp`), which the user also sees as a 5xx.
 */
export function parseServerCounts(csv: string, backend: string): Map<string, ServerCounts> {
  const lines = csv.split('\n').filter((line) => line.trim().length > 0);
  const header = lines.find((line) => line.startsWith('# '));
  if (!header) throw new Error(`unexpected 'show stat' answer: ${csv.trim() || '(empty)'}`);
  const fields = header.slice(2).split(',');
  const column = (name: string) => {
    const index = fields.indexOf(name);
    if (index === -1) throw new Error(`'show stat' has no ${name} column`);
    return index;
  };
  const statusColumns = ['hrsp_1xx', 'hrsp_2xx', 'hrsp_3xx', 'hrsp_4xx', 'hrsp_5xx', 'hrsp_other'];
  const at = {
    proxy: column('pxname'),
    server: column('svname'),
    statuses: statusColumns.map(column),
    fivexx: column('hrsp_5xx'),
    eresp: column('eresp'),
  };
  const counts = new Map<string, ServerCounts>();
  for (const line of lines) {
    if (line.startsWith('#')) continue;
    const values = line.split(',');
    const server = values[at.server];
    if (values[at.proxy] !== backend || !server || server === 'BACKEND') continue;
    const number = (index: number) => Number(values[index]) || 0;
    const failed = number(at.eresp);
    counts.set(server, {
      responses: at.statuses.reduce((sum, index) => sum + number(index), 0) + failed,
      errors: number(at.fivexx) + failed,
    });
  }
  return counts;
}

interface SlotAccount {
  /** Which instance in which group the slot counts for; a change starts a new account. */
  key: string;
  group: VersionGroup;
  /** The slot's counters when this account opened. */
  base: ServerCounts;
}

const accountKey = (slot: SlotAssignment) => `${slot.group}/${slot.instance.id}`;
const zero = (): ServerCounts => ({ responses: 0, errors: 0 });

/**
 * Per-group cumulative counters on top of HAProxy's per-slot ones. HAProxy counts per server slot
 * for its whole life, while a slot serves different instances and groups over time, so each
 * (slot, instance, group) gets an account opened at the slot's counters of that moment; when the
 * slot moves on, what the account counted stays with its group. Group totals therefore only grow,
 * like the embedded proxy's.
 */
export class GroupTrafficAccounts {
  /** New with the data plane: its counters start at zero with it (see ServiceTrafficStats). */
  readonly epoch = randomUUID();
  private readonly open = new Map<number, SlotAccount>();
  private readonly closed = Object.fromEntries(
    VERSION_GROUPS.map((group) => [group, zero()]),
  ) as Record<VersionGroup, ServerCounts>;

  /** True when moving to `next` closes or opens an account, so counters must be read first. */
  changes(next: SlotTable): boolean {
    const slots = Math.max(next.length, Math.max(-1, ...this.open.keys()) + 1);
    return Array.from({ length: slots }, (_, i) => i).some(
      (i) => this.open.get(i)?.key !== (next[i] ? accountKey(next[i]) : undefined),
    );
  }

  /** Closes the accounts of slots that change in `next` and opens accounts for their new use. */
  move(next: SlotTable, now: Map<string, ServerCounts>): void {
    const slots = Math.max(next.length, Math.max(-1, ...this.open.keys()) + 1);
    for (let i = 0; i < slots; i++) {
      const account = this.open.get(i);
      const slot = next[i];
      if (account?.key === (slot ? accountKey(slot) : undefined)) continue;
      const counts = now.get(slotName(i)) ?? zero();
      if (account) add(this.closed[account.group], since(counts, account.base));
      if (slot) this.open.set(i, { key: accountKey(slot), group: slot.group, base: counts });
      else this.open.delete(i);
    }
  }

  /** Cumulative counts per group. HAProxy gives no latency distribution: histograms stay empty. */
  snapshot(service: string, now: Map<string, ServerCounts>): ServiceTrafficStats {
    const totals = Object.fromEntries(
      VERSION_GROUPS.map((group) => [group, { ...this.closed[group] }]),
    ) as Record<VersionGroup, ServerCounts>;
    for (const [index, account] of this.open) {
      add(totals[account.group], since(now.get(slotName(index)) ?? account.base, account.base));
    }
    const groups = Object.fromEntries(
      VERSION_GROUPS.map((group) => [group, withoutLatency(totals[group])]),
    ) as Record<VersionGroup, GroupTrafficStats>;
    return { service, epoch: this.epoch, groups };
  }
}

/** Counter growth; a slot whose counters went down (HAProxy restarted) counts from zero again. */
function since(now: ServerCounts, base: ServerCounts): ServerCounts {
  if (now.responses < base.responses) return { ...now };
  return { responses: now.responses - base.responses, errors: now.errors - base.errors };
}

function add(total: ServerCounts, more: ServerCounts): void {
  total.responses += more.responses;
  total.errors += more.errors;
}

function withoutLatency(counts: ServerCounts): GroupTrafficStats {
  return {
    requests: counts.responses,
    errors: counts.errors,
    latency: {
      boundsMs: LATENCY_BUCKET_BOUNDS_MS,
      counts: new Array<number>(LATENCY_BUCKET_BOUNDS_MS.length + 1).fill(0),
      sumMs: 0,
      count: 0,
    },
  };
}
