import { describe, expect, it } from 'vitest';
import { MeasureSlots } from './measure-slots.ts';

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('MeasureSlots', () => {
  it('opens every slot when nothing is being found', async () => {
    const slots = new MeasureSlots(3);
    const held = await Promise.all([slots.acquire(), slots.acquire(), slots.acquire()]);
    let fourth = false;
    void slots.acquire().then(() => {
      fourth = true;
    });
    await settle();
    expect(fourth).toBe(false);
    held[0]?.();
    await settle();
    expect(fourth).toBe(true);
  });

  it('lets one measurement through while finding runs, and the rest when it ends', async () => {
    const slots = new MeasureSlots(4);
    let endFinding: () => void = () => {};
    const finding = slots.whileFinding(() => new Promise<void>((resolve) => (endFinding = resolve)));
    const granted: number[] = [];
    const releases = [0, 1, 2].map((i) =>
      slots.acquire().then((release) => {
        granted.push(i);
        return release;
      }),
    );
    await settle();
    expect(granted).toEqual([0]);
    endFinding();
    await finding;
    await settle();
    expect(granted).toEqual([0, 1, 2]);
    for (const release of await Promise.all(releases)) release();
  });

  it('gives up waiting when the signal aborts, and a released slot is not counted twice', async () => {
    const slots = new MeasureSlots(1);
    const release = await slots.acquire();
    const controller = new AbortController();
    const waiting = slots.acquire(controller.signal);
    controller.abort(new Error('shutting down'));
    await expect(waiting).rejects.toThrow('shutting down');
    release();
    release();
    const again = await slots.acquire();
    let second = false;
    void slots.acquire().then(() => {
      second = true;
    });
    await settle();
    expect(second).toBe(false);
    again();
    await settle();
    expect(second).toBe(true);
  });
});
