/**
 * The one domain error type. Verbs throw AppError with a code; each edge (HTTP, MQTT
 * handler, job worker) maps the code to its own vocabulary. HTTP statuses live here so
 * every edge agrees on what a code means.
 */
export const errorStatus = {
  validation_failed: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  idempotency_in_progress: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  idempotency_key_reused: 422,
  unprocessable: 422,
  unavailable: 503,
  internal: 500,
} as const;

export type ErrorCode = keyof typeof errorStatus;

export const errorTitle: Record<ErrorCode, string> = {
  validation_failed: 'The request is not valid',
  unauthenticated: 'Authentication required',
  forbidden: 'Not allowed for this role',
  not_found: 'Not found',
  method_not_allowed: 'Method not allowed',
  conflict: 'Conflict with the current state',
  idempotency_in_progress: 'A request with this Idempotency-Key is still running',
  payload_too_large: 'Request body too large',
  unsupported_media_type: 'Unsupported content type',
  idempotency_key_reused: 'Idempotency-Key reused with a different request',
  unprocessable: 'The request cannot be processed',
  unavailable: 'A dependency is unavailable',
  internal: 'Internal error',
};

export interface FieldError {
  /** JSON-pointer-like path of the offending field, e.g. "body/creditCode" */
  path: string;
  message: string;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly errors: FieldError[] | undefined;
  /** Extra machine-readable members added to the problem document. */
  readonly extra: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, detail: string, options: { errors?: FieldError[]; extra?: Record<string, unknown>; cause?: unknown } = {}) {
    super(detail, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.errors = options.errors;
    this.extra = options.extra;
  }

  get status(): number {
    return errorStatus[this.code];
  }
}

export const notFound = (what: string) => new AppError('not_found', `${what} not found`);
export const forbidden = (detail: string) => new AppError('forbidden', detail);
export const conflict = (detail: string, extra?: Record<string, unknown>) => new AppError('conflict', detail, { extra });

export function isAppError(e: unknown): e is AppError {
  return e instanceof AppError;
}

/** Turns zod issues into field errors; `prefix` says which part of the request they came from. */
export function fieldErrorsFromZod(issues: readonly { path: readonly PropertyKey[]; message: string }[], prefix?: string): FieldError[] {
  return issues.map((issue) => ({
    path: [prefix, ...issue.path.map(String)].filter((p) => p !== undefined && p !== '').join('/') || '(root)',
    message: issue.message,
  }));
}
