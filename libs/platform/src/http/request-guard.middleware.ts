import { BadRequestException, UnsupportedMediaTypeException } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import type { FieldProblem, ValidationErrorBody } from './validation';

/** Deepest JSON nesting a request body may have; no Rollgate body needs more than a dozen. */
export const MAX_BODY_DEPTH = 64;

/**
 * Names through which a user string could reach an object's prototype when used as a key
 * (`state.flags[key]`): refused anywhere in a request, so no handler has to remember them.
 */
export const RESERVED_NAMES: ReadonlySet<string> = new Set([
  '__proto__',
  'constructor',
  'prototype',
]);

/**
 * Characters that steer a terminal or reorder text (C0 but tab, newline and carriage return; DEL;
 * C1; bidirectional overrides): refused in user text, which CLIs and logs print.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_CHARACTER = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;

const controlProblem = (field: string, text: string): FieldProblem | undefined => {
  const found = CONTROL_CHARACTER.exec(text)?.[0];
  if (found === undefined) return undefined;
  const code = found.charCodeAt(0).toString(16).padStart(4, '0');
  return { field, problem: `contains the control character U+${code.toUpperCase()}` };
};

/**
 * Runs after the JSON body parser and before routing: refuses what validation should never see.
 * A body that is not JSON is 415; a body nested deeper than MAX_BODY_DEPTH, or a reserved name or
 * a control character in a path segment, query value, body key or body string, is 400 naming where. The walk is
 * iterative, so a hostile body cannot exhaust the stack here (or later, in class-transformer).
 */
export function requestGuardMiddleware(req: Request, _res: Response, next: NextFunction): void {
  if (hasBody(req) && !isJson(req.headers['content-type'])) {
    throw new UnsupportedMediaTypeException(
      `unsupported content type "${req.headers['content-type'] ?? ''}": send application/json`,
    );
  }
  const problem =
    reservedInPath(req.originalUrl) ?? reservedInQuery(req.query) ?? inspectBody(req.body);
  if (problem) throw new BadRequestException(validationBody(problem));
  next();
}

function hasBody(req: Request): boolean {
  const length = Number(req.headers['content-length'] ?? 0);
  return length > 0 || req.headers['transfer-encoding'] !== undefined;
}

function isJson(contentType: string | undefined): boolean {
  const mediaType = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  return mediaType === 'application/json' || /^application\/[a-z0-9.+-]*\+json$/.test(mediaType);
}

function validationBody(problem: FieldProblem): ValidationErrorBody {
  return {
    statusCode: 400,
    error: 'Bad Request',
    message: 'validation failed',
    details: [problem],
  };
}

const reservedProblem = (field: string, name: string): FieldProblem => ({
  field,
  problem: `"${name}" is a reserved name`,
});

function reservedInPath(url: string): FieldProblem | undefined {
  const path = url.split('?')[0] ?? '';
  for (const raw of path.split('/')) {
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      return { field: 'path', problem: `"${raw}" is not valid percent-encoding` };
    }
    if (RESERVED_NAMES.has(segment)) return reservedProblem('path', segment);
    const control = controlProblem('path', segment);
    if (control) return control;
  }
  return undefined;
}

function reservedInQuery(query: unknown): FieldProblem | undefined {
  if (typeof query !== 'object' || query === null) return undefined;
  for (const [key, value] of Object.entries(query)) {
    if (RESERVED_NAMES.has(key)) return reservedProblem(`query ${key}`, key);
    for (const item of [value].flat()) {
      if (typeof item === 'string' && RESERVED_NAMES.has(item)) {
        return reservedProblem(`query ${key}`, item);
      }
      const control = typeof item === 'string' ? controlProblem(`query ${key}`, item) : undefined;
      if (control) return control;
      if (typeof item === 'object' && item !== null) {
        return { field: `query ${key}`, problem: 'must be a plain value' };
      }
    }
  }
  return undefined;
}

/** Depth-first without recursion; the path of each node is built only when it is reported. */
export function inspectBody(body: unknown): FieldProblem | undefined {
  const stack: { value: unknown; path: readonly (string | number)[] }[] = [
    { value: body, path: [] },
  ];
  while (stack.length > 0) {
    const { value, path } = stack.pop()!;
    if (typeof value === 'string') {
      if (RESERVED_NAMES.has(value)) return reservedProblem(fieldOf(path), value);
      const control = controlProblem(fieldOf(path), value);
      if (control) return control;
      continue;
    }
    if (typeof value !== 'object' || value === null) continue;
    if (path.length >= MAX_BODY_DEPTH) {
      return {
        field: fieldOf(path),
        problem: `nested deeper than ${MAX_BODY_DEPTH} levels`,
      };
    }
    if (Array.isArray(value)) {
      value.forEach((item, index) => stack.push({ value: item, path: [...path, index] }));
      continue;
    }
    for (const [key, item] of Object.entries(value)) {
      if (RESERVED_NAMES.has(key)) return reservedProblem(fieldOf([...path, key]), key);
      const control = controlProblem(fieldOf([...path, key]), key);
      if (control) return control;
      stack.push({ value: item, path: [...path, key] });
    }
  }
  return undefined;
}

const fieldOf = (path: readonly (string | number)[]): string =>
  path.length === 0 ? 'body' : path.join('.');
