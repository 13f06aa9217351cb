/** Injectable time source, so tests control expiry without sleeping. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** A clock tests move by hand. */
export class ManualClock implements Clock {
  private current: number;
  constructor(start: Date | number = Date.UTC(2026, 10, 23, 9, 0, 0)) {
    this.current = typeof start === 'number' ? start : start.getTime();
  }
  now(): Date {
    return new Date(this.current);
  }
  advance(seconds: number): void {
    this.current += seconds * 1000;
  }
  set(at: Date): void {
    this.current = at.getTime();
  }
}

export const addSeconds = (at: Date, seconds: number): Date => new Date(at.getTime() + seconds * 1000);
