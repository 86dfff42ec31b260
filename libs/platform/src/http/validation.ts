import { BadRequestException, ValidationError, ValidationPipe } from '@nestjs/common';
import { ValidateIf } from 'class-validator';

export interface FieldProblem {
  /** Dotted path of the offending property, e.g. `steps.0.weight`. */
  field: string;
  problem: string;
}

/** Body of every 400 caused by invalid input. */
export interface ValidationErrorBody {
  statusCode: 400;
  error: 'Bad Request';
  message: 'validation failed';
  details: FieldProblem[];
}

/** Flattens class-validator's nested errors into one line per violated constraint. */
export function toFieldProblems(errors: ValidationError[], parent = ''): FieldProblem[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((problem) => ({ field, problem }));
    return [...own, ...toFieldProblems(error.children ?? [], field)];
  });
}

/** Rejects unknown properties too: a typo in a release request must not be silently ignored. */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    transform: true,
    whitelist: true,
    forbidNonWhitelisted: true,
    exceptionFactory: (errors) => {
      const body: ValidationErrorBody = {
        statusCode: 400,
        error: 'Bad Request',
        message: 'validation failed',
        details: toFieldProblems(errors),
      };
      return new BadRequestException(body);
    },
  });
}

/** A 201 names where the new resource is read. */
export function setLocation(
  response: { setHeader(name: string, value: string): unknown },
  path: string,
): void {
  response.setHeader('Location', path);
}

/**
 * A body field that may be left out. Unlike class-validator's IsOptional, an explicit `null` is
 * not "left out": it goes through the field's validators and is refused naming the field.
 */
export const OptionalField = (): PropertyDecorator =>
  ValidateIf((_object: object, value: unknown) => value !== undefined);
