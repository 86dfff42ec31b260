import { RouteAppliedV1, eventCatalog } from '@rollgate/contracts';
import { toRouteAppliedV1 } from './route-applied';

describe('toRouteAppliedV1', () => {
  it('carries the confirmed weights and the data plane kind, valid against the published schema', () => {
    const data = toRouteAppliedV1({
      service: 'web',
      dataPlane: 'haproxy',
      weights: { stable: 95, baseline: 0, canary: 5, blue: 0, green: 0 },
      backends: {},
      endpoint: { host: '127.0.0.1', port: 8080 },
    });

    expect(data).toEqual({
      service: 'web',
      weights: { stable: 95, baseline: 0, canary: 5, blue: 0, green: 0 },
      dataPlane: 'haproxy',
    });
    const event = eventCatalog.create({
      type: RouteAppliedV1.type,
      version: RouteAppliedV1.version,
      actor: 'service:router',
      correlationId: 'release-1',
      causationId: null,
      key: 'web',
      data,
    });
    expect(event.data).toEqual(data);
  });
});
