import { HttpError } from '@atlas/shared/net';
import { z } from 'zod';
import type { StopReason } from '../crawl/pager.ts';
import { DirectoryFormatError } from '../directory/public-rooms.ts';

/** The directory answered, but not to Atlas: 403 (not published) or 401 (no valid credentials). */
export class DirectoryRefusedError extends Error {
  override name = 'DirectoryRefusedError';
  constructor(
    readonly status: number,
    readonly errcode: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

/** A remote answered with a status or body that is not what the endpoint promises. */
export class RemoteAnswerError extends Error {
  override name = 'RemoteAnswerError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const matrixError = z.object({
  errcode: z.string().max(128).optional(),
  error: z.string().max(512).optional(),
});

/** `M_FORBIDDEN: ...` from a Matrix error body, cut short, for recorded reasons. */
export function describeMatrixError(
  status: number,
  body: unknown,
): { errcode: string | undefined; text: string } {
  const parsed = matrixError.safeParse(body);
  const errcode = parsed.success ? parsed.data.errcode : undefined;
  const error = parsed.success ? parsed.data.error : undefined;
  const detail = [errcode, error?.replace(/[^\x20-\x7E]/g, '').slice(0, 200)].filter(Boolean).join(': ');
  return { errcode, text: `HTTP ${status}${detail ? ` (${detail})` : ''}` };
}

/**
 * Another crawler process kept the server busy for the whole wait (ADR 0009): nothing was sent, so
 * this is never an answer of the server, only a reason to run the job again a little later.
 */
export function isBusy(error: unknown): error is HttpError {
  return error instanceof HttpError && error.code === 'busy';
}

/** How a failed page read ends paging. */
export function stopReasonFor(error: unknown): StopReason {
  if (isBusy(error)) return 'busy';
  if (error instanceof DirectoryRefusedError) return 'forbidden';
  if (error instanceof HttpError && error.code === 'read_deadline') return 'time_cap';
  if (error instanceof HttpError && error.code === 'aborted') return 'aborted';
  return 'error';
}

/** A one-line reason for the database, never a stack. */
export function describeError(error: unknown): string {
  if (error instanceof HttpError) return `${error.code}: ${error.message}`.slice(0, 500);
  if (error instanceof DirectoryFormatError || error instanceof RemoteAnswerError)
    return error.message.slice(0, 500);
  if (error instanceof Error) return `${error.name}: ${error.message}`.slice(0, 500);
  return String(error).slice(0, 500);
}
