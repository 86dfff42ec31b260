import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

const ROOT = join(__dirname, '../../..');
const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');

interface ComposeService {
  ports?: string[];
  environment?: Record<string, unknown>;
}

describe('deployment files', () => {
  const compose = parse(read('docker-compose.yml'), { merge: true }) as {
    services: Record<string, ComposeService>;
  };

  it('publishes ports on 127.0.0.1 only', () => {
    const ports = Object.values(compose.services).flatMap((service) => service.ports ?? []);
    expect(ports).toHaveLength(5);
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

  it('runs the image as an unprivileged user', () => {
    expect(read('Dockerfile')).toMatch(/^USER node$/m);
  });
});
