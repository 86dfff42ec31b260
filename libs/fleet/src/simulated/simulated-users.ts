import http from 'node:http';

/** Where a simulated instance answers for a batch of requests (see SimulatedFleetDriver). */
export const SIMULATED_OUTCOMES_PATH = '/simulated/outcomes';

/**
 * Each service's users send their share about once a second, services taking turns over the
 * second (one slice per 100 ms), so the exchanges are spread evenly rather than one burst a
 * second that every process on the machine feels at once.
 */
const ROUND_MS = 1_000;
const SLICES = 10;
/**
 * Distinct simulated users; each request is one drawn at random (sticky routing hashes them
 * like real users). Drawn, not counted off in turn: a counter shared by every service gave a
 * service the same few users round after round whenever the round's total was near a multiple
 * of the population, so its canary and baseline shares were fixed by a dozen users' buckets
 * (one run's canary got 60 requests to its baseline's 21 at equal weights).
 */
const USERS = 1_000_000;
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
  private startedAt = Date.now();
  private turn = 0;
  /** Per service in analysis: when its users last sent, and the fraction of a request owed. */
  private readonly accounts = new Map<string, { sentAt: number; owed: number }>();
  /** Services whose exchange is in flight: a slow one is not overlapped by its next turn. */
  private readonly inFlight = new Map<string, Promise<void>>();
  private sent = 0;
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

  constructor(
    private readonly routes: SimulatedUserRoutes,
    private readonly perSecond: number,
    /** Random source of the users drawn (seeded with ROLLGATE_SIMULATED_SEED). */
    private readonly random: () => number = Math.random,
  ) {}

  start(): void {
    this.startedAt = Date.now();
    this.timer = setInterval(() => void this.send(this.turn++ % SLICES), ROUND_MS / SLICES);
    this.timer.unref();
  }

  /** Requests sent so far. */
  count(): number {
    return this.sent;
  }

  /** Sends what every service's users owe now, whatever its turn. */
  tick(): Promise<void> {
    return this.send(null);
  }

  private async send(slice: number | null): Promise<void> {
    const now = Date.now();
    const services = this.routes.servicesInAnalysis();
    const current = new Set(services);
    for (const service of [...this.accounts.keys()])
      if (!current.has(service)) this.accounts.delete(service);
    await Promise.all(
      services
        .filter((service) => slice === null || sliceOf(service) === slice)
        .filter((service) => !this.inFlight.has(service))
        .map((service) => {
          const sending = this.sendOwed(service, now).finally(() => this.inFlight.delete(service));
          this.inFlight.set(service, sending);
          return sending;
        }),
    );
  }

  private async sendOwed(service: string, now: number): Promise<void> {
    // A service new to analysis owes at most one round: its users start when its share does.
    const account = this.accounts.get(service) ?? {
      sentAt: Math.max(this.startedAt, now - ROUND_MS),
      owed: 0,
    };
    const owed = account.owed + (this.perSecond * (now - account.sentAt)) / 1000;
    const count = Math.floor(owed);
    this.accounts.set(service, { sentAt: now, owed: owed - count });
    if (count === 0) return;
    this.sent += count;
    const users = Array.from(
      { length: count },
      () => `simulated-user-${Math.floor(this.random() * USERS)}`,
    );
    await this.routes.simulate(service, users, this.ask);
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
    await Promise.all(this.inFlight.values());
    this.agent.destroy();
  }
}

/** A service's turn in the round: stable, and spread evenly over many services. */
function sliceOf(service: string): number {
  let hash = 0;
  for (let i = 0; i < service.length; i++) hash = (hash * 31 + service.charCodeAt(i)) >>> 0;
  return hash % SLICES;
}
