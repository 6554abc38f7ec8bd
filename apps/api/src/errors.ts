import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

/** Every error the JSON API answers with, and its HTTP status. */
export const ERROR_STATUS = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  UNAVAILABLE: 503,
} as const satisfies Record<string, ContentfulStatusCode>;

export type ErrorCode = keyof typeof ERROR_STATUS;

export interface ErrorEnvelope {
  error: { code: ErrorCode; message: string; requestId: string };
}

/** An error meant for the caller: its message says what was wrong and how to fix it. */
export class ApiError extends HTTPException {
  readonly code: ErrorCode;
  readonly headers: Record<string, string>;

  constructor(code: ErrorCode, message: string, headers: Record<string, string> = {}) {
    super(ERROR_STATUS[code], { message });
    this.code = code;
    this.headers = headers;
  }
}

export function errorEnvelope(c: Context, code: ErrorCode, message: string): ErrorEnvelope {
  return { error: { code, message, requestId: c.get('requestId') ?? '' } };
}

/** Matrix endpoints answer errors the Matrix way (client-server API, "Standard error response"). */
export interface MatrixError {
  errcode: string;
  error: string;
  retry_after_ms?: number;
}

const MATRIX_CODES: Record<ErrorCode, string> = {
  BAD_REQUEST: 'M_BAD_JSON',
  UNAUTHORIZED: 'M_UNAUTHORIZED',
  FORBIDDEN: 'M_FORBIDDEN',
  NOT_FOUND: 'M_NOT_FOUND',
  CONFLICT: 'M_UNKNOWN',
  PAYLOAD_TOO_LARGE: 'M_TOO_LARGE',
  RATE_LIMITED: 'M_LIMIT_EXCEEDED',
  INTERNAL: 'M_UNKNOWN',
  UNAVAILABLE: 'M_UNKNOWN',
};

/** A Matrix-style error with a specific errcode (M_INVALID_PARAM, M_NOT_JSON, ...). */
export class MatrixApiError extends ApiError {
  constructor(
    code: ErrorCode,
    readonly errcode: string,
    message: string,
    headers: Record<string, string> = {},
  ) {
    super(code, message, headers);
  }
}

export function matrixBody(error: ApiError): MatrixError {
  const body: MatrixError = {
    errcode: error instanceof MatrixApiError ? error.errcode : MATRIX_CODES[error.code],
    error: error.message,
  };
  const retryAfter = error.headers['retry-after'];
  if (retryAfter) body.retry_after_ms = Number(retryAfter) * 1000;
  return body;
}

/** Paths that speak Matrix's error format rather than Atlas's envelope. */
export function isMatrixPath(path: string): boolean {
  return path.startsWith('/_matrix/') || path.startsWith('/.well-known/matrix/');
}
