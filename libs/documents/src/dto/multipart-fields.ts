import { plainToInstance } from 'class-transformer';
import { validateSync, ValidationError } from 'class-validator';
import { DomainError, FieldError } from '@kura/common';
import type { Fields } from '../content/multipart-reader';

function flatten(errors: ValidationError[]): FieldError[] {
  return errors.map((e) => ({ field: e.property, messages: Object.values(e.constraints ?? {}) }));
}

/** Multipart fields → a validated DTO, rejecting unknown fields like the JSON pipe does. */
export function validateFields<T extends object>(cls: new () => T, fields: Fields, allowed: string[], repeatable: string[] = []): T {
  const unknown = [...fields.keys()].filter((k) => !allowed.includes(k));
  if (unknown.length) throw DomainError.validation('The request has unknown fields.', unknown.map((f) => ({ field: f.slice(0, 40), messages: [`property ${f.slice(0, 40)} should not exist`] })));
  const plain: Record<string, unknown> = {};
  for (const [k, v] of fields) {
    if (!repeatable.includes(k) && v.length > 1) throw DomainError.validation(`The field ${k} is given more than once.`, [{ field: k, messages: ['given more than once'] }]);
    plain[k] = repeatable.includes(k) ? v : v[0];
  }
  const dto = plainToInstance(cls, plain);
  const errors = validateSync(dto, { whitelist: true, forbidNonWhitelisted: true, validationError: { target: false, value: false } });
  if (errors.length) throw DomainError.validation('The request has invalid fields.', flatten(errors));
  return dto;
}
