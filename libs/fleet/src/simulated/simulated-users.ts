/** How often the simulated users send their share of requests. */
const TICK_MS = 250;
/** Requests in flight beyond which a tick sends nothing more (a slow data plane is not buried). */
const MAX_IN_FLIGHT = 1_000;
/** How long a service's data-plane endpoint is trusted before it is asked again. */
const ENDPOINT_TTL_MS = 10_000;

/**
 * The simulated fleet's users: real HTTP requests through the router's data plane (so the data
 * plane counts them where it counts any user's), `perSecond` per service, only to services that
 * currently have canary or baseline instances. One timer for the whole fleet, never one per
 * instance or service; the endpoint of each service is read from the router's GET /routes/:service.
 */
export class SimulatedUsers {
  private timer: NodeJS.Timeout | null = null;
  private last = Date.now();
  private readonly owed = new Map<string, number>();
  private readonly endpoints = new Map<string, { url: string | null; at: number }>();
  private inFlight = 0;
  private sent = 0;
  private ticking = false;
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly routerUrl: string,
    private readonly perSecond: number,
    private readonly services: () => string[],
  ) {}

  /** Starts the timer if it is not running (called when an instance starts). */
  wake(): void {
    if (this.timer) return;
    this.last = Date.now();
    this.timer = setInterval(() => void this.tick(), TICK_MS);
    this.timer.unref();
  }

  /** Requests sent so far. */
  count(): number {
    return this.sent;
  }

  private async tick(): Promise<void> {
    // A slow tick (a busy router) is not overlapped by the next: the next one sends what is owed.
    if (this.ticking) return;
    this.ticking = true;
    try {
      await this.sendOwed();
    } finally {
      this.ticking = false;
    }
  }

  private async sendOwed(): Promise<void> {
    const now = Date.now();
    const elapsed = (now - this.last) / 1000;
    this.last = now;
    const services = this.services();
    for (const service of [...this.owed.keys()])
      if (!services.includes(service)) this.owed.delete(service);
    await Promise.all(
      services.map(async (service) => {
        const owed = (this.owed.get(service) ?? 0) + this.perSecond * elapsed;
        const count = Math.floor(owed);
        this.owed.set(service, owed - count);
        if (count === 0 || this.inFlight >= MAX_IN_FLIGHT) return;
        const url = await this.endpoint(service);
        if (!url) return;
        for (let i = 0; i < count && this.inFlight < MAX_IN_FLIGHT; i++) this.send(url);
      }),
    );
  }

  private send(url: string): void {
    this.inFlight++;
    this.sent++;
    const request = fetch(url, {
      headers: { 'x-user-id': `simulated-user-${this.sent % 1000}` },
      signal: AbortSignal.timeout(5_000),
    })
      .then((response) => response.arrayBuffer())
      .then(
        () => undefined,
        () => undefined,
      )
      .finally(() => {
        this.inFlight--;
        this.pending.delete(request);
      });
    this.pending.add(request);
  }

  private async endpoint(service: string): Promise<string | null> {
    const known = this.endpoints.get(service);
    // A known endpoint is trusted for a while; an unknown one is asked again on the next tick.
    if (known?.url && Date.now() - known.at < ENDPOINT_TTL_MS) return known.url;
    let url: string | null = null;
    try {
      const response = await fetch(`${this.routerUrl}/routes/${encodeURIComponent(service)}`, {
        signal: AbortSignal.timeout(2_000),
      });
      if (response.ok) {
        const route = (await response.json()) as { endpoint?: { host?: string; port?: number } };
        const port = route.endpoint?.port;
        if (port) url = `http://${route.endpoint?.host || '127.0.0.1'}:${port}/work`;
      }
    } catch {
      url = null;
    }
    this.endpoints.set(service, { url, at: Date.now() });
    return url;
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await Promise.all([...this.pending]);
  }
}
