import { eachLimited } from './each-limited';

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('eachLimited', () => {
  it('runs every item, never more than the limit at once', async () => {
    let running = 0;
    let peak = 0;
    const done: number[] = [];
    await eachLimited([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
      running += 1;
      peak = Math.max(peak, running);
      await tick();
      done.push(n);
      running -= 1;
    });
    expect(peak).toBe(3);
    expect(done.sort()).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('rejects with the first failure after the other items have finished', async () => {
    const done: number[] = [];
    await expect(
      eachLimited([1, 2, 3, 4], 2, async (n) => {
        await tick();
        if (n === 2) throw new Error('two failed');
        done.push(n);
      }),
    ).rejects.toThrow('two failed');
    expect(done.sort()).toEqual([1, 3, 4]);
  });

  it('does nothing for no items', async () => {
    const work = jest.fn(async () => undefined);
    await eachLimited([], 4, work);
    expect(work).not.toHaveBeenCalled();
  });
});
