import { LATEST_EVENT_VERSIONS } from './event-types';
import { eventCatalog } from './registry';

describe('LATEST_EVENT_VERSIONS', () => {
  it('names every published type at its latest version, and nothing else', () => {
    const catalogTypes = [...new Set(eventCatalog.all().map((d) => d.type))].sort();
    expect(Object.keys(LATEST_EVENT_VERSIONS).sort()).toEqual(catalogTypes);
    for (const type of catalogTypes) {
      expect([type, LATEST_EVENT_VERSIONS[type as keyof typeof LATEST_EVENT_VERSIONS]]).toEqual([
        type,
        eventCatalog.latestVersion(type),
      ]);
    }
  });
});
