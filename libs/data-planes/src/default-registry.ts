import { EMBEDDED_KIND, EmbeddedProxyOptions, startEmbeddedProxy } from './embedded/embedded-proxy';
import { HAPROXY_KIND, HaproxyOptions, startHaproxy } from './haproxy/haproxy-data-plane';
import { DataPlaneRegistry } from './registry';

/** A registry with the providers built in: `embedded` (the default) and `haproxy`. */
export function defaultDataPlaneRegistry(): DataPlaneRegistry {
  return new DataPlaneRegistry()
    .register<EmbeddedProxyOptions>(EMBEDDED_KIND, startEmbeddedProxy)
    .register<HaproxyOptions>(HAPROXY_KIND, startHaproxy);
}
