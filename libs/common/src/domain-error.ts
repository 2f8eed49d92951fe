/**
 * Services throw DomainError with a code; they know nothing of HTTP.
 * apps/api maps each code to a problem+json status in one place.
 */
export enum ErrorCode {
  Validation = 'validation',
  Unauthenticated = 'unauthenticated',
  Forbidden = 'forbidden',
  PasswordChangeRequired = 'password-change-required',
  NotFound = 'not-found',
  Conflict = 'conflict',
  Gone = 'gone',
  PreconditionFailed = 'precondition-failed',
  PreconditionRequired = 'precondition-required',
  PayloadTooLarge = 'payload-too-large',
  UnsupportedMediaType = 'unsupported-media-type',
  NotAcceptable = 'not-acceptable',
  Locked = 'locked',
  TooManyRequests = 'too-many-requests',
  IntegrityFailed = 'integrity-failed',
  Unavailable = 'unavailable',
  RequestTimeout = 'request-timeout',
}

export interface FieldError {
  field: string;
  messages: string[];
}

export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    /** Safe for the client: never content, keys, secrets or internal state. */
    readonly detail: string,
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(detail);
    this.name = 'DomainError';
  }

  static validation(detail: string, errors: FieldError[] = []): DomainError {
    return new DomainError(ErrorCode.Validation, detail, errors.length ? { errors } : {});
  }

  static notFound(what = 'resource'): DomainError {
    return new DomainError(ErrorCode.NotFound, `The ${what} does not exist.`);
  }
}
