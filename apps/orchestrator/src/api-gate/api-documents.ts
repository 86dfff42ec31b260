import { createHash } from 'node:crypto';
import { BadRequestException, Injectable } from '@nestjs/common';
import SwaggerParser from '@apidevtools/swagger-parser';
import type { ApiDocumentStoredV1, ConsumerContractV1, ProvidedApiV1 } from '@rollgate/contracts';
import {
  canonicalJson,
  normalizeOpenApi,
  parseConsumerContract,
  type InputProblem,
} from '@rollgate/api-compat';
import { EventStore } from '@rollgate/persistence';

/** A document as a build declares it: what the gate compares, and the digest that names it. */
export type ApiDocument = Omit<ApiDocumentStoredV1, 'service'>;

/** Canonical JSON of a stored document may not exceed this (it travels on the log). */
const MAX_STORED_BYTES = 512 * 1024;

const invalid = (problems: InputProblem[], field: string) =>
  new BadRequestException({
    message: 'validation failed',
    details: problems.map((p) => ({
      field: p.field ? `${field}.${p.field}` : field,
      problem: p.problem,
    })),
  });

/**
 * Only references inside the document: a `$ref` to a URL or a file would make the orchestrator
 * fetch or read it (SSRF, local files). Iterative, so a deep document cannot exhaust the stack.
 */
function externalRefs(document: unknown): InputProblem[] {
  const problems: InputProblem[] = [];
  const stack: { value: unknown; path: string }[] = [{ value: document, path: '' }];
  while (stack.length > 0 && problems.length < 10) {
    const { value, path } = stack.pop()!;
    if (typeof value !== 'object' || value === null) continue;
    for (const [key, inner] of Object.entries(value)) {
      const at = path ? `${path}.${key}` : key;
      if (key === '$ref' && (typeof inner !== 'string' || !inner.startsWith('#')))
        problems.push({ field: at, problem: 'only internal references ("#/…") are resolved' });
      else stack.push({ value: inner, path: at });
    }
  }
  return problems;
}

const digestOf = (document: unknown) =>
  `sha256:${createHash('sha256').update(canonicalJson(document)).digest('hex')}`;

/**
 * The API documents builds declare, stored by digest in the orchestrator's own event store (one
 * stream per digest, so the log keeps them and a replay finds them), reduced to what the gate
 * compares. Content-addressed, so a cached document never goes stale.
 */
@Injectable()
export class ApiDocuments {
  private readonly cache = new Map<string, ApiDocument | null>();

  constructor(private readonly eventStore: EventStore) {}

  /** Validates an OpenAPI 3 document (internal `$ref`s resolved by swagger-parser). 400 names `field`. */
  async parseOpenApi(document: unknown, field: string): Promise<ApiDocument> {
    const version = (document as { openapi?: unknown }).openapi;
    if (typeof version !== 'string' || !version.startsWith('3.'))
      throw invalid(
        [{ field: 'openapi', problem: 'must be an OpenAPI 3 document ("openapi": "3.x")' }],
        field,
      );
    const refs = externalRefs(document);
    if (refs.length > 0) throw invalid(refs, field);
    let resolved: unknown;
    try {
      resolved = await SwaggerParser.validate(structuredClone(document) as never, {
        resolve: { external: false, file: false, http: false },
      });
    } catch (error) {
      throw invalid(
        [
          {
            field: '',
            problem: `is not a valid OpenAPI document: ${(error as Error).message.slice(0, 500)}`,
          },
        ],
        field,
      );
    }
    const api = normalizeOpenApi(resolved);
    if (!api.ok) throw invalid(api.problems, field);
    return this.sized(
      { digest: digestOf(document), kind: 'openapi', format: 'openapi', provides: api.value },
      field,
    );
  }

  /** Validates a consumer contract: Rollgate's format or a Pact file. 400 names `field`. */
  parseConsumerContract(document: unknown, field: string): ApiDocument {
    const parsed = parseConsumerContract(document);
    if (!parsed.ok) throw invalid(parsed.problems, field);
    return this.sized(
      {
        digest: digestOf(document),
        kind: 'consumer-contract',
        format: parsed.value.format,
        consumes: parsed.value.contract,
      },
      field,
    );
  }

  private sized(document: ApiDocument, field: string): ApiDocument {
    if (canonicalJson(document).length > MAX_STORED_BYTES)
      throw invalid(
        [
          {
            field: '',
            problem: `expands to more than ${MAX_STORED_BYTES / 1024} KB of operations and fields`,
          },
        ],
        field,
      );
    return document;
  }

  /** Stores a document once under its digest (a second store of the same bytes appends nothing). */
  async store(service: string, document: ApiDocument): Promise<void> {
    await this.eventStore.execute(
      { name: 'api-document', initial: () => false, evolve: () => true },
      streamOf(document.digest),
      (stored) =>
        stored
          ? []
          : [
              {
                type: 'ApiDocumentStored',
                version: 1,
                actor: 'service:orchestrator',
                correlationId: `api-document:${document.digest}`,
                causationId: null,
                key: service,
                data: { ...document, service },
              },
            ],
    );
    this.cache.set(document.digest, document);
  }

  /** A stored document by digest; null when this store never saw it. */
  async get(digest: string): Promise<ApiDocument | null> {
    if (this.cache.has(digest)) return this.cache.get(digest)!;
    const [stored] = await this.eventStore.load(streamOf(digest));
    if (!stored) return null;
    const { kind, format, provides, consumes } = stored.data as ApiDocumentStoredV1;
    const document: ApiDocument = {
      digest,
      kind,
      format,
      ...(provides ? { provides } : {}),
      ...(consumes ? { consumes } : {}),
    };
    this.cache.set(digest, document);
    return document;
  }

  async provided(digest: string | null | undefined): Promise<ProvidedApiV1 | null> {
    return digest ? ((await this.get(digest))?.provides ?? null) : null;
  }

  async consumed(digest: string | null | undefined): Promise<ConsumerContractV1 | null> {
    return digest ? ((await this.get(digest))?.consumes ?? null) : null;
  }
}

const streamOf = (digest: string) => `api-document:${digest}`;
