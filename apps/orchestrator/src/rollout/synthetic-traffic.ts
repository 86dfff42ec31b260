import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import type { LowTrafficChoicesV1 } from '@rollgate/contracts';
import {
  fullWeights,
  groupForBucket,
  stickyBucket,
  type GroupWeights,
} from '@rollgate/data-planes';

export type SyntheticSettings = NonNullable<LowTrafficChoicesV1['synthetic']>;
export type SyntheticRequest = SyntheticSettings['mix'][number];

/** Workspace root: the load generator runs from here, as the local fleet's instances do. */
export const WORKSPACE_ROOT = resolve(__dirname, '../../../..');

/** The groups synthetic traffic feeds, equally. */
export const SYNTHETIC_GROUPS = ['canary', 'baseline'] as const;
export type SyntheticGroup = (typeof SYNTHETIC_GROUPS)[number];

/** What the load generator is told (as JSON in ROLLGATE_SYNTHETIC). */
export interface GeneratorOrders {
  routerUrl: string;
  service: string;
  rps: number;
  mix: SyntheticRequest[];
  stickyHeader: string;
}

/** Requests sent so far, per group. */
export type SentCounts = Record<SyntheticGroup, number>;

/**
 * Sticky user ids the data plane sends to `group` under `weights`: the requests go through the
 * data plane like any user's (so the analysis counts them where it counts real traffic), and
 * each lands on the group it is meant for. Empty when the group has no weight.
 */
export function stickyIdsFor(
  group: SyntheticGroup,
  weights: GroupWeights,
  count: number,
): string[] {
  const full = fullWeights(weights);
  if (full[group] <= 0) return [];
  const ids: string[] = [];
  for (let n = 0; ids.length < count && n < count * 10_000; n++) {
    const id = `synthetic-${group}-${n}`;
    if (groupForBucket(stickyBucket(id), full) === group) ids.push(id);
  }
  return ids;
}

/** The mix in turn, each request as often as its weight says (smooth weighted round robin). */
export function mixRotation(mix: readonly SyntheticRequest[]): () => SyntheticRequest {
  const entries = mix.map((request) => ({ request, current: 0 }));
  const total = mix.reduce((sum, r) => sum + r.weight, 0);
  return () => {
    let best = entries[0]!;
    for (const entry of entries) {
      entry.current += entry.request.weight;
      if (entry.current > best.current) best = entry;
    }
    best.current -= total;
    return best.request;
  };
}

/** The last counts a generator printed (`{"sent":{...}}` lines). */
export function lastSent(output: string): SentCounts {
  const lines = output.trim().split('\n').reverse();
  for (const line of lines) {
    try {
      const parsed = JSON.parse(line) as { sent?: SentCounts };
      if (parsed.sent) return parsed.sent;
    } catch {
      // not a counts line
    }
  }
  return { canary: 0, baseline: 0 };
}

interface Generator {
  child: ChildProcess;
  output: string;
  exited: Promise<void>;
}

/**
 * The orchestrator's load generators, one child process per analysis run, each a real HTTP
 * client (synthetic-traffic.main.ts). A pipe on stdin is their lifeline: they exit with us.
 */
export class SyntheticTraffic {
  private readonly generators = new Map<string, Generator>();

  constructor(private readonly root: string) {}

  running(): string[] {
    return [...this.generators.keys()];
  }

  isRunning(runId: string): boolean {
    return this.generators.has(runId);
  }

  start(runId: string, orders: GeneratorOrders): void {
    if (this.generators.has(runId)) return;
    const child = spawn(
      process.execPath,
      [join(this.root, 'bin/run.js'), 'apps/orchestrator/src/rollout/synthetic-traffic.main.ts'],
      {
        cwd: this.root,
        env: { ...process.env, ROLLGATE_SYNTHETIC: JSON.stringify(orders) },
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    const generator: Generator = {
      child,
      output: '',
      exited: new Promise((done) => child.once('exit', () => done())),
    };
    child.stdout!.on('data', (chunk: Buffer) => {
      generator.output = (generator.output + chunk.toString()).slice(-4000);
    });
    child.stderr!.resume();
    this.generators.set(runId, generator);
  }

  /** Stops a generator; what it sent (as it last reported). */
  async stop(runId: string): Promise<SentCounts> {
    const generator = this.generators.get(runId);
    if (!generator) return { canary: 0, baseline: 0 };
    this.generators.delete(runId);
    generator.child.kill('SIGTERM');
    await generator.exited;
    return lastSent(generator.output);
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.running().map((runId) => this.stop(runId)));
  }
}
