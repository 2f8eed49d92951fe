import { ValidationError, ValidationPipe } from '@nestjs/common';
import { DomainError, FieldError } from '@kura/common';

/** One message per failing field: "is required" when it is missing, else the first rule it breaks. */
function flatten(errors: ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((e) => {
    const field = parent ? `${parent}.${e.property}` : e.property;
    const messages = Object.values(e.constraints ?? {});
    const own = messages.length ? [{ field, messages: [e.value === undefined || e.value === null ? `${field} is required` : messages[0]] }] : [];
    return [...own, ...flatten(e.children ?? [], field)];
  });
}

/** Unknown fields are rejected; every failing field is named in the problem's `errors`. */
export function validationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    stopAtFirstError: false,
    // The value is read to tell "missing" from "wrong"; it never reaches the response.
    validationError: { target: false, value: true },
    exceptionFactory: (errors) => DomainError.validation('The request has invalid fields.', flatten(errors)),
  });
}
