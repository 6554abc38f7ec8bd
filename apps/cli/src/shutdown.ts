import type { Logger } from '@atlas/shared/log';

/** Everything a process stops at exit gets this long in total (compose's default stop grace is 10 s). */
export const SHUTDOWN_TIMEOUT_MS = 9_000;

interface Step {
  name: string;
  stop(deadline: number): Promise<void>;
}

/**
 * Stops a process's parts in the order they were registered (HTTP, workers, queues, database), all
 * under one bounded timeout: a step that overruns is abandoned and the next one runs.
 */
export class ShutdownSequence {
  private readonly steps: Step[] = [];
  private running: Promise<void> | undefined;

  constructor(private readonly log: Logger) {}

  /** Adds a step; steps run in the order they were added. `deadline` is epoch ms. */
  add(name: string, stop: (deadline: number) => Promise<void>): void {
    this.steps.push({ name, stop });
  }

  run(timeoutMs = SHUTDOWN_TIMEOUT_MS): Promise<void> {
    this.running ??= this.runSteps(Date.now() + timeoutMs);
    return this.running;
  }

  private async runSteps(deadline: number): Promise<void> {
    for (const step of this.steps) {
      const left = deadline - Date.now();
      if (left <= 0) {
        this.log.warn({ step: step.name }, 'shutdown: out of time, skipping');
        continue;
      }
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), left);
      });
      try {
        const result = await Promise.race([step.stop(deadline).then(() => 'done' as const), timedOut]);
        if (result === 'timeout') this.log.warn({ step: step.name }, 'shutdown: step did not finish in time');
      } catch (error) {
        this.log.warn({ step: step.name, err: error }, 'shutdown: step failed');
      } finally {
        clearTimeout(timer);
      }
    }
  }
}

/** Resolves on the first SIGINT or SIGTERM, with the signal's name. */
export function waitForStopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
