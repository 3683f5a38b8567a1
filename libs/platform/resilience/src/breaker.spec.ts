import { describe, expect, it } from '@jest/globals';
import { Registry } from 'prom-client';
import { BreakerOpenError, BreakerTimeoutError, createBreaker } from './breaker.js';

class NotFound extends Error {}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const fail = async (): Promise<never> => {
  throw new Error('upstream down');
};

describe(createBreaker.name, () => {
  it('stays closed after one failure', async () => {
    const breaker = createBreaker(fail, { name: 'one', registry: new Registry() });
    await expect(breaker.fire()).rejects.toThrow('upstream down');
    expect(breaker.state).toBe('closed');
    breaker.shutdown();
  });

  it('opens after failures above the volume threshold and then fails fast without calling the action', async () => {
    let calls = 0;
    const breaker = createBreaker(
      async () => {
        calls++;
        throw new Error('down');
      },
      { name: 'opens', volumeThreshold: 3, registry: new Registry() },
    );
    for (let i = 0; i < 3; i++) await expect(breaker.fire()).rejects.toThrow('down');
    expect(breaker.state).toBe('open');
    await expect(breaker.fire()).rejects.toBeInstanceOf(BreakerOpenError);
    expect(calls).toBe(3);
    breaker.shutdown();
  });

  it('half-opens after the reset timeout and closes on a successful trial', async () => {
    let healthy = false;
    const registry = new Registry();
    const transitions: string[] = [];
    const breaker = createBreaker(
      async () => {
        if (!healthy) throw new Error('down');
        return 'ok';
      },
      { name: 'recovers', volumeThreshold: 2, resetTimeoutMs: 50, registry, onStateChange: (state) => transitions.push(state) },
    );
    await expect(breaker.fire()).rejects.toThrow();
    await expect(breaker.fire()).rejects.toThrow();
    expect(breaker.state).toBe('open');
    await sleep(80);
    expect(breaker.state).toBe('half-open');
    expect(await registry.metrics()).toContain('circuit_breaker_state{breaker="recovers"} 1');
    healthy = true;
    await expect(breaker.fire()).resolves.toBe('ok');
    expect(breaker.state).toBe('closed');
    expect(transitions).toEqual(['open', 'half-open', 'closed']);
    expect(await registry.metrics()).toContain('circuit_breaker_state{breaker="recovers"} 0');
    breaker.shutdown();
  });

  it('aborts the signal of a call that times out', async () => {
    let seen: AbortSignal | undefined;
    const breaker = createBreaker(
      (signal: AbortSignal) => {
        seen = signal;
        return new Promise<string>(() => undefined);
      },
      { name: 'slow', timeoutMs: 20, registry: new Registry() },
    );
    await expect(breaker.fire()).rejects.toBeInstanceOf(BreakerTimeoutError);
    expect(seen?.aborted).toBe(true);
    breaker.shutdown();
  });

  it('counts timeouts as failures even when isFailure would not', async () => {
    const breaker = createBreaker(() => new Promise<never>(() => undefined), {
      name: 'timeouts-count',
      timeoutMs: 10,
      volumeThreshold: 2,
      isFailure: () => false,
      registry: new Registry(),
    });
    for (let i = 0; i < 2; i++) await expect(breaker.fire()).rejects.toBeInstanceOf(BreakerTimeoutError);
    expect(breaker.state).toBe('open');
    breaker.shutdown();
  });

  it('treats a synchronous throw as a failure and leaves no timer behind', async () => {
    const registry = new Registry();
    const breaker = createBreaker(
      (): Promise<string> => {
        throw new Error('thrown before any promise');
      },
      { name: 'sync-throw', timeoutMs: 20, registry },
    );
    await expect(breaker.fire()).rejects.toThrow('thrown before any promise');
    await sleep(40);
    const text = await registry.metrics();
    expect(text).toMatch(/circuit_breaker_events_total\{breaker="sync-throw",event="failure"\} 1/);
    expect(text).not.toContain('event="timeout"');
    breaker.shutdown();
  });

  it('leaves timing to the action when timeoutMs is false', async () => {
    let seen: AbortSignal | undefined;
    const breaker = createBreaker(
      async (signal: AbortSignal, value: string) => {
        seen = signal;
        return value;
      },
      { name: 'untimed', timeoutMs: false, registry: new Registry() },
    );
    await expect(breaker.fire('v')).resolves.toBe('v');
    expect(seen?.aborted).toBe(false);
    breaker.shutdown();
  });

  it('does not count errors that are not failures', async () => {
    const breaker = createBreaker(
      async () => {
        throw new NotFound('no such key');
      },
      { name: 'filtered', volumeThreshold: 2, isFailure: (e) => !(e instanceof NotFound), registry: new Registry() },
    );
    for (let i = 0; i < 5; i++) await expect(breaker.fire()).rejects.toBeInstanceOf(NotFound);
    expect(breaker.state).toBe('closed');
    breaker.shutdown();
  });

  it('exports its state and events as metrics, and survives re-registration', async () => {
    const registry = new Registry();
    const breaker = createBreaker(fail, { name: 'metered', volumeThreshold: 1, registry });
    const again = createBreaker(async () => 'ok', { name: 'second', registry });
    await expect(breaker.fire()).rejects.toThrow();
    await again.fire();
    const text = await registry.metrics();
    expect(text).toContain('circuit_breaker_state{breaker="metered"} 2');
    expect(text).toContain('circuit_breaker_state{breaker="second"} 0');
    expect(text).toMatch(/circuit_breaker_events_total\{breaker="metered",event="open"\} 1/);
    breaker.shutdown();
    again.shutdown();
  });
});
