// Painted-frame statistics of the face preview, taken where the frames are actually drawn.
//
// Three figures, because each answers a different question:
// - `rolling`: frames painted in the last 2 s ÷ 2 s — what the operator sees right now;
// - `steady`: frames painted from the first painted frame to the end (the capture) — the
//   sustained preview rate, without the model loading and camera start that precede it;
// - `minRolling`: the lowest `rolling` once a full 2 s window has been painted — the worst stutter.

/** Length of the rolling window, ms. */
export const WINDOW_MS = 2000;

export interface PaintStats {
  painted: number;
  rolling: number;
  steady: number;
  minRolling: number;
}

/** Counts painted frames; `now` is a `performance.now()` time in ms. */
export class PaintRate {
  private times: number[] = [];
  private first = -1;
  private count = 0;
  private min = Infinity;

  /** One frame was drawn at `now`. */
  painted(now: number): void {
    if (this.first < 0) this.first = now;
    this.count++;
    this.times.push(now);
    this.sample(now);
  }

  /** The rolling rate at `now` (frames in the last window ÷ window), folding it into the minimum
   * once a full window has passed since the first paint. Call it on a timer as well, so that a
   * stall with no paints at all still lowers the minimum. */
  sample(now: number): number {
    while (this.times.length && now - this.times[0] >= WINDOW_MS) this.times.shift();
    const rate = (this.times.length * 1000) / WINDOW_MS;
    if (this.first >= 0 && now - this.first >= WINDOW_MS) this.min = Math.min(this.min, rate);
    return rate;
  }

  /** The figures at `now` (the end of the stream, for `steady`). */
  stats(now: number): PaintStats {
    const rolling = this.sample(now);
    const span = this.first >= 0 ? now - this.first : 0;
    return {
      painted: this.count,
      rolling,
      steady: span > 0 ? ((this.count - 1) * 1000) / span : 0,
      minRolling: Number.isFinite(this.min) ? this.min : 0,
    };
  }
}
