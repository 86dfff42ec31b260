import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { BEARER_SCHEME, SCOPES_EXTENSION } from '../auth/decorators';

export interface HttpAppDescription {
  title: string;
  description: string;
  version?: string;
}

export interface HttpAppSetupOptions {
  /** Close the app on SIGTERM/SIGINT. A host running several apps handles signals itself. */
  shutdownHooks?: boolean;
}

const MUTATING_METHODS = ['post', 'put', 'patch', 'delete'] as const;

/**
 * Per-application HTTP setup that a module cannot do itself: OpenAPI at /docs (JSON at /docs-json)
 * and shutdown hooks. Guard, validation pipe and error filter come with RollgateHttpModule, so a
 * test module built with Test.createTestingModule behaves exactly like production.
 * Call it before app.init()/listen(): routes added after init sit behind the 404 handler.
 */
export function setupHttpApp(
  app: INestApplication,
  description: HttpAppDescription,
  options: HttpAppSetupOptions = {},
): void {
  const config = new DocumentBuilder()
    .setTitle(description.title)
    .setDescription(description.description)
    .setVersion(description.version ?? '0.1.0')
    .addBearerAuth(
      {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'opaque', // not a JWT: an rg_ token whose SHA-256 is in the tokens file
        description: 'Rollgate API token',
      },
      BEARER_SCHEME,
    )
    .build();
  const document = requireBearerOnMutations(SwaggerModule.createDocument(app, config));
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
  if (options.shutdownHooks !== false) app.enableShutdownHooks();
}

/**
 * Mirrors BearerAuthGuard in the document: every mutating operation needs a token, and one that
 * declares no scope needs admin.
 */
function requireBearerOnMutations(document: OpenAPIObject): OpenAPIObject {
  for (const path of Object.values(document.paths)) {
    for (const method of MUTATING_METHODS) {
      const operation = path[method];
      if (!operation) continue;
      if (!operation.security?.length) operation.security = [{ [BEARER_SCHEME]: [] }];
      const extended = operation as unknown as Record<typeof SCOPES_EXTENSION, unknown>;
      extended[SCOPES_EXTENSION] ??= ['admin'];
    }
  }
  return document;
}
