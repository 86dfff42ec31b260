// The load generator the orchestrator starts during an analysis with synthetic traffic on: `rps`
// requests a second to each of canary and baseline, through the service's data plane, marked.
import { SYNTHETIC_TRAFFIC_HEADER } from '@rollgate/contracts';
import {
  SYNTHETIC_GROUPS,
  mixRotation,
  stickyIdsFor,
  type GeneratorOrders,
  type SentCounts,
  type SyntheticGroup,
} from './synthetic-traffic';

const IDS_PER_GROUP = 20;
const ROUTE_REFRESH_MS = 2_000;

interface RouteView {
  weights: Record<string, number>;
  endpoint: { port: number };
}

async function main(): Promise<void> {
  const orders = JSON.parse(process.env['ROLLGATE_SYNTHETIC'] ?? '{}') as GeneratorOrders;
  const next = mixRotation(orders.mix);
  const sent: SentCounts = { canary: 0, baseline: 0 };
  let running = true;
  // Where to send and as whom, from the route the router last reported.
  const target: { route: { port: number; ids: Record<SyntheticGroup, string[]> } | null } = {
    route: null,
  };
  const refresh = async () => {
    const response = await fetch(`${orders.routerUrl}/routes/${orders.service}`, {
      signal: AbortSignal.timeout(2_000),
    }).catch(() => null);
    if (!response?.ok) return;
    const view = (await response.json()) as RouteView;
    target.route = {
      port: view.endpoint.port,
      ids: {
        canary: stickyIdsFor('canary', view.weights, IDS_PER_GROUP),
        baseline: stickyIdsFor('baseline', view.weights, IDS_PER_GROUP),
      },
    };
  };
  const stop = () => {
    running = false;
  };
  process.on('SIGTERM', stop);
  process.stdin.on('end', stop);
  process.stdin.resume();
  const report = setInterval(() => console.log(JSON.stringify({ sent })), 1_000);
  let refreshedAt = 0;
  for (let n = 0; running; n++) {
    const due = Date.now() + 1000 / orders.rps;
    if (Date.now() - refreshedAt >= ROUTE_REFRESH_MS) {
      await refresh();
      refreshedAt = Date.now();
    }
    const current = target.route;
    if (current) {
      await Promise.all(
        SYNTHETIC_GROUPS.map(async (group) => {
          const ids = current.ids[group];
          if (ids.length === 0) return;
          const request = next();
          const answered = await fetch(`http://127.0.0.1:${current.port}${request.path}`, {
            method: request.method,
            headers: {
              [SYNTHETIC_TRAFFIC_HEADER]: '1',
              [orders.stickyHeader]: ids[n % ids.length]!,
            },
            signal: AbortSignal.timeout(2_000),
          }).then(
            async (response) => (await response.arrayBuffer(), true),
            () => false,
          );
          if (answered) sent[group]++;
        }),
      );
    }
    await new Promise((r) => setTimeout(r, Math.max(0, due - Date.now())));
  }
  clearInterval(report);
  console.log(JSON.stringify({ sent }));
  process.exit(0);
}

void main();
