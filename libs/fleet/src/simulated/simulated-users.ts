import http from 'node:http';

/** Where a simulated instance answers for a batch of requests (see SimulatedFleetDriver). */
export const SIMULATED_OUTCOMES_PATH = '/simulated/outcomes';

/** How often the simulated users send their share of requests. */
const TICK_MS = 1_000;
/** Distinct simulated users (sticky routing hashes them like real users). */
const USERS = 1_000;
/** An instance that has not answered a batch in this long failed it. */
const ANSWER_TIMEOUT_MS = 5_000;

export interface SimulatedOutcome {
  status: number;
  latencyMs: number;
}

/** The embedded data plane as the simulated users need it (EmbeddedProxyDataPlane). */
export interface SimulatedUserRoutes {
  servicesInAnalysis(): string[];
  simulate(
    service: string,
    users: string[],
    answer: (
      instance: { host: string; port: number },
      count: number,
    ) => Promise<SimulatedOutcome[]>,
  ): Promise<void>;
}

/**
 * The simulated fleet's users, run by the router (scale tests only): `perSecond` requests per
 * service while its route gives canary or baseline a share. Each request chooses its group and
 * instance through the data plane's own route and lands in its own counters (what the embedded
 * metric source reads); only the transport is simulated: once a second each chosen instance is
 * asked for the outcomes of all its requests in one exchange, so 500 services fit on 2 cores.
 */
export class SimulatedUsers {
  private timer: NodeJS.Timeout | null = null;
  private last = Date.now();
  private readonly owed = new Map<string, number>();
  private sent = 0;
  private ticking: Promise<void> | null = null;
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

  constructor(
    private readonly routes: SimulatedUserRoutes,
    private readonly perSecond: number,
  ) {}

  start(): void {
    this.last = Date.now();
    this.timer = setInterval(() => void this.tick(), TICK_MS);
    this.timer.unref();
  }

  /** Requests sent so far. */
  count(): number {
    return this.sent;
  }

  /** Sends what is owed since the last tick; a slow tick is not overlapped by the next. */
  tick(): Promise<void> {
    this.ticking ??= this.sendOwed().finally(() => (this.ticking = null));
    return this.ticking;
  }

  private async sendOwed(): Promise<void> {
    const now = Date.now();
    const elapsed = (now - this.last) / 1000;
    this.last = now;
    const services = this.routes.servicesInAnalysis();
    const current = new Set(services);
    for (const service of [...this.owed.keys()])
      if (!current.has(service)) this.owed.delete(service);
    await Promise.all(
      services.map((service) => {
        const owed = (this.owed.get(service) ?? 0) + this.perSecond * elapsed;
        const count = Math.floor(owed);
        this.owed.set(service, owed - count);
        const users = Array.from({ length: count }, () => `simulated-user-${this.sent++ % USERS}`);
        return count === 0 ? undefined : this.routes.simulate(service, users, this.ask);
      }),
    );
  }

  private readonly ask = (
    instance: { host: string; port: number },
    count: number,
  ): Promise<SimulatedOutcome[]> =>
    new Promise((resolve, reject) => {
      const url = `http://${instance.host}:${instance.port}${SIMULATED_OUTCOMES_PATH}?count=${count}`;
      const req = http.get(url, { agent: this.agent }, (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => {
          try {
            const { outcomes } = JSON.parse(body) as { outcomes: [number, number][] };
            resolve(outcomes.map(([status, latencyMs]) => ({ status, latencyMs })));
          } catch {
            reject(new Error(`instance answered ${response.statusCode}: ${body.slice(0, 100)}`));
          }
        });
        response.on('error', reject);
      });
      req.setTimeout(ANSWER_TIMEOUT_MS, () => req.destroy(new Error('no answer in time')));
      req.on('error', reject);
    });

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.ticking;
    this.agent.destroy();
  }
}
