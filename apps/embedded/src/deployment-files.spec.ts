import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { parseConfig, SERVICE_NAMES, type RollgateConfig } from '@rollgate/platform';

const ROOT = join(__dirname, '../../..');
const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');

interface ComposeService {
  command?: string[];
  ports?: string[];
  environment?: Record<string, unknown>;
  depends_on?: Record<string, unknown>;
  volumes?: string[];
}

/** The app a container runs: `orchestrator` for apps/orchestrator/src/main.ts, `agent` for the CLI's agent. */
function appOf(service: ComposeService): string | undefined {
  const command = (service.command ?? []).join(' ');
  if (/^node bin\/rollgate\.js agent /.test(command)) return 'agent';
  return /^node bin\/run\.js apps\/([a-z-]+)\/src\/main\.ts$/.exec(command)?.[1];
}

const optionOf = (service: ComposeService, name: string) => {
  const command = service.command ?? [];
  return command[command.indexOf(name) + 1];
};

describe('deployment files', () => {
  const compose = parse(read('docker-compose.yml'), { merge: true }) as {
    services: Record<string, ComposeService>;
  };

  it('publishes ports on 127.0.0.1 only', () => {
    const ports = Object.values(compose.services).flatMap((service) => service.ports ?? []);
    expect(ports).toHaveLength(6);
    for (const port of ports) expect(port).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
  });

  it('carries no database password: it comes from .env, which neither git nor the image takes', () => {
    const urls = Object.values(compose.services)
      .flatMap((service) => Object.values(service.environment ?? {}))
      .filter((value) => String(value).startsWith('postgres://'));
    expect(urls.length).toBeGreaterThan(0);
    for (const url of urls) {
      expect(url).toMatch(/^postgres:\/\/postgres:\$\{ROLLGATE_POSTGRES_PASSWORD:\?[^}]+\}@/);
    }
    expect(compose.services['postgres']?.environment?.['POSTGRES_PASSWORD']).toBe(
      '${ROLLGATE_POSTGRES_PASSWORD:?set it in .env}',
    );
    expect(read('.gitignore').split('\n')).toContain('.env');
    expect(read('.dockerignore').split('\n')).toEqual(
      expect.arrayContaining(['.env', '.rollgate']),
    );
  });

  describe('every container has what its app needs, and every reference names a container', () => {
    const rollgate = Object.entries(compose.services).filter(([, service]) => appOf(service));
    const configOf = (service: ComposeService): RollgateConfig =>
      parseConfig(
        Object.fromEntries(
          // As compose fills it in from .env: `${ROLLGATE_POSTGRES_PASSWORD:?...}`.
          Object.entries(service.environment ?? {}).map(([key, value]) => [
            key,
            String(value).replace(/\$\{[A-Z_]+:\?[^}]*\}/g, 'secret'),
          ]),
        ),
      );
    const runs = (app: string) =>
      rollgate.filter(([, service]) => appOf(service) === app).map(([name]) => name);

    it('runs each of the five services and the console in one container, and two agents', () => {
      for (const app of [...SERVICE_NAMES, 'console'])
        expect({ app, names: runs(app) }).toEqual({ app, names: [app] });
      expect(runs('agent').length).toBeGreaterThanOrEqual(2);
    });

    it.each(rollgate.map(([name, service]) => [name, service] as const))(
      '%s: its settings parse, and its URLs, brokers and database are containers it waits for',
      (_name, service) => {
        const config = configOf(service);
        expect(config.mode).toBe('production');
        expect(config.host).toBe('0.0.0.0');
        expect(config.fleet).toBe('agents');
        for (const app of SERVICE_NAMES) {
          const url = new URL(config.serviceUrls[app]);
          const target = compose.services[url.hostname];
          expect({ app, runs: target && appOf(target) }).toEqual({ app, runs: app });
          expect({ app, port: Number(url.port) }).toEqual({
            app,
            port: configOf(target!).ports[app],
          });
        }
        const hosts = [
          ...config.kafkaBrokers.map((broker) => broker.split(':')[0]!),
          new URL(config.databaseUrl).hostname,
        ];
        for (const host of hosts) {
          expect(compose.services[host]).toBeDefined();
          expect(Object.keys(service.depends_on ?? {})).toContain(host);
        }
        // The tokens file is in the read-only mount of ./.rollgate.
        expect(config.tokensFile.startsWith('/run/rollgate/')).toBe(true);
        expect(service.volumes).toContain('./.rollgate:/run/rollgate:ro');
      },
    );

    it('publishes each service on the port it listens on', () => {
      for (const [name, service] of rollgate) {
        const app = appOf(service)!;
        const config = configOf(service);
        const port =
          app === 'console'
            ? Number(service.environment?.['ROLLGATE_CONSOLE_PORT'] ?? 7006)
            : config.ports[app as (typeof SERVICE_NAMES)[number]];
        const published = (service.ports ?? []).map((p) => Number(p.split(':')[2]));
        expect({ name, published }).toEqual({ name, published: app === 'agent' ? [] : [port] });
      }
    });

    it('names each agent a host of its own, reachable by the data plane at its container name', () => {
      const agents = rollgate.filter(([, service]) => appOf(service) === 'agent');
      const hosts = agents.map(([, service]) => optionOf(service, '--host'));
      expect(new Set(hosts).size).toBe(agents.length);
      for (const [name, service] of agents) {
        expect(optionOf(service, '--address')).toBe(name);
        expect(Number(optionOf(service, '--capacity'))).toBeGreaterThan(0);
        // Its state survives a restart of the container (it adopts what it started).
        expect(service.volumes?.some((v) => v.endsWith(':/rollgate/.rollgate/data'))).toBe(true);
      }
    });
  });

  it('runs the image as an unprivileged user', () => {
    expect(read('Dockerfile')).toMatch(/^USER node$/m);
  });
});
