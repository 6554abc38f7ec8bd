import { HttpError } from './types.ts';

/**
 * The lifetime of one `request()` call: its total timeout, the caller's absolute deadline and
 * abort signal, merged into one AbortSignal whose reason is the HttpError to report. Waiting for
 * a politeness slot, every redirect hop and every body byte happen under it.
 */
export class CallScope {
  private readonly controller = new AbortController();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly detach: (() => void) | undefined;

  constructor(url: string, totalMs: number, deadline: number | undefined, signal: AbortSignal | undefined) {
    if (signal?.aborted) {
      this.controller.abort(new HttpError('aborted', `request to ${url} was cancelled`, url));
    } else if (deadline !== undefined && deadline <= Date.now()) {
      this.controller.abort(new HttpError('read_deadline', `the read deadline passed before ${url}`, url));
    }
    this.timers.push(
      setTimeout(
        () =>
          this.fail(new HttpError('total_timeout', `${url} took longer than ${totalMs} ms in total`, url)),
        totalMs,
      ),
    );
    if (deadline !== undefined) {
      this.timers.push(
        setTimeout(
          () =>
            this.fail(new HttpError('read_deadline', `the read deadline passed while reading ${url}`, url)),
          Math.max(0, deadline - Date.now()),
        ),
      );
    }
    if (signal && !signal.aborted) {
      const onAbort = () => this.fail(new HttpError('aborted', `request to ${url} was cancelled`, url));
      signal.addEventListener('abort', onAbort, { once: true });
      this.detach = () => signal.removeEventListener('abort', onAbort);
    }
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** The error that ended the call, once it has ended. */
  get reason(): HttpError | undefined {
    const reason: unknown = this.controller.signal.reason;
    return reason instanceof HttpError ? reason : undefined;
  }

  fail(error: HttpError): void {
    if (!this.controller.signal.aborted) this.controller.abort(error);
  }

  dispose(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.detach?.();
  }
}
