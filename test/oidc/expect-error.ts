import { expect } from 'vitest';

import { WartaError } from '../../src/errors.js';

/** Runs `fn`, which must throw a WartaError, and returns that error for further assertions. */
export function errorFrom(fn: () => unknown): WartaError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(WartaError);
    return error as WartaError;
  }
  throw new Error('expected a WartaError, but nothing was thrown');
}

/** Awaits `promise`, which must reject with a WartaError, and returns that error. */
export async function rejectionFrom(promise: Promise<unknown>): Promise<WartaError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(WartaError);
    return error as WartaError;
  }
  throw new Error('expected a WartaError rejection, but the promise resolved');
}
