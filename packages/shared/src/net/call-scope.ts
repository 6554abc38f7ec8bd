import { HttpError } from './types.ts';

/** Callbacks of the calls in flight under each caller's signal. */
const pending = new WeakMap<AbortSignal, Set<() => void>>();

/**
 * Runs `callback` when `signal` aborts; the returned function forgets it. A crawler passes one
 * process-wide signal to hundreds of calls at once, and an EventTarget scans its listener list on
 * every add and remove, so each signal gets one listener and the calls wait in a Set.
 */
function whenAborted(signal: AbortSignal, callback: () => void): () => void {
  let callbacks = pending.get(signal);
  if (!callbacks) {
    const created = new Set<() => void>();
    callbacks = created;
    pending.set(signal, created);
    signal.addEventListener(
      'abort',
      () => {
        pending.delete(signal);
        for (const waiting of created) waiting();
      },
      { once: true },
    );
  }
  const own = callbacks;
  own.add(callback);
  return () => own.delete(callback);
}

/**
 * The lifetime of one `request()` call: its total timeout, the caller's absolute deadline and
 * abort signal, merged into one AbortSignal whose reason is the HttpError to report. Waiting for
 * a politeness slot, every redirect hop and every body byte happen under it.
 */
export class CallScope {
  private readonly controller = new AbortController();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly detach: (() => void) | undefined;

  /**
   * `timeoutError` is what running out of `totalMs` reports (default: `total_timeout`); the wait for
   * a shared politeness hold reports `busy` instead, since it says nothing about the server.
   */
  constructor(
    url: string,
    totalMs: number,
    deadline: number | undefined,
    signal: AbortSignal | undefined,
    timeoutError?: () => HttpError,
  ) {
    if (signal?.aborted) {
      this.controller.abort(new HttpError('aborted', `request to ${url} was cancelled`, url));
    } else if (deadline !== undefined && deadline <= Date.now()) {
      this.controller.abort(new HttpError('read_deadline', `the read deadline passed before ${url}`, url));
    }
    this.timers.push(
      setTimeout(
        () =>
          this.fail(
            timeoutError?.() ??
              new HttpError('total_timeout', `${url} took longer than ${totalMs} ms in total`, url),
          ),
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
      this.detach = whenAborted(signal, () =>
        this.fail(new HttpError('aborted', `request to ${url} was cancelled`, url)),
      );
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
