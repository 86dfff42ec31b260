import { DataPlane } from './port';

/** Builds a started data plane from provider-specific options. */
export type DataPlaneFactory<Options = unknown> = (options: Options) => Promise<DataPlane>;

/**
 * Providers by kind. A new data plane (Envoy, a Kubernetes Gateway) plugs in by registering a
 * factory; nothing else in Rollgate branches on the kind.
 */
export class DataPlaneRegistry {
  private readonly factories = new Map<string, DataPlaneFactory>();

  register<Options>(kind: string, factory: DataPlaneFactory<Options>): this {
    if (this.factories.has(kind))
      throw new Error(`data plane kind '${kind}' is already registered`);
    this.factories.set(kind, factory as DataPlaneFactory);
    return this;
  }

  kinds(): string[] {
    return [...this.factories.keys()];
  }

  create(kind: string, options: unknown = {}): Promise<DataPlane> {
    const factory = this.factories.get(kind);
    if (!factory) {
      return Promise.reject(
        new Error(
          `unknown data plane kind '${kind}' (registered: ${this.kinds().join(', ') || 'none'})`,
        ),
      );
    }
    return factory(options);
  }
}
