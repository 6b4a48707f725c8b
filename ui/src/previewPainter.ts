// Paints the face preview: each frame's JPEG is loaded from its `preview:` URL into an image and
// decoded with `HTMLImageElement.decode()` (WebKit decodes off the page's main thread); the decoded
// image replaces the one on screen in the next animation frame, so the swap itself costs no
// decoding. Two frames load at a time (one's request travels while the other decodes), at most one
// waits to be loaded and one decoded picture waits for the display: a newer frame replaces a
// waiting one and a frame older than the one on screen is never shown (the older is dropped,
// never half-shown), so a busy window shows the newest picture instead of a backlog. A frame counts
// as painted only when it was put on screen.
//
// Tried before, and slower on the shared 2-core machine under Xvfb (docs/benchmarks/app.md): the
// JPEG as a base64 data URL inside the event (a 40 kB string through the app's main thread and the
// page's script parser per frame), and a <canvas> fed by createImageBitmap (WebKitGTK decoded the
// bitmap lazily inside drawImage, on the main thread: 61 ms per VGA frame).
import { previewUrl, type PreviewDto } from "./api";

/** Frames loading at the same time. */
const LOADS = 2;

export class PreviewPainter {
  private host: HTMLElement | null = null;
  private waiting: PreviewDto | null = null; // newest frame not loaded yet
  private loading = 0;
  private ready: { frame: number; img: HTMLImageElement } | null = null; // decoded, waiting for the next animation frame
  private newest = -1; // newest frame decoded (shown or waiting to be)
  private frameRequested = false;
  private generation = 0;
  /** Frames of this stream that left the pipeline (painted, dropped for a newer one, unloadable). */
  handled = 0;
  /** Frames of this stream put on screen. */
  painted = 0;

  /** `onPainted(now)` runs for every frame put on screen (now = performance.now()). */
  constructor(private readonly onPainted: (now: number) => void) {}

  /** Where to show the pictures (`null` while there is nowhere: frames are then dropped). */
  attach(host: HTMLElement | null): void {
    this.host = host;
  }

  /** A new stream: forget the previous one's frames and counts. */
  reset(): void {
    this.generation++;
    this.loading = 0;
    this.waiting = null;
    this.ready = null;
    this.newest = -1;
    this.handled = 0;
    this.painted = 0;
  }

  /** A new frame was announced. */
  push(frame: PreviewDto): void {
    if (!this.host) {
      this.handled++;
      return;
    }
    if (this.waiting !== null) this.handled++; // dropped: a newer one replaces it
    this.waiting = frame;
    void this.loadNext();
  }

  private async loadNext(): Promise<void> {
    if (this.loading >= LOADS || this.waiting === null) return;
    const frame = this.waiting;
    this.waiting = null;
    this.loading++;
    const generation = this.generation;
    const img = new Image();
    img.alt = "camera preview";
    img.decoding = "async";
    // The request tells Rust how far this window got (flow control).
    img.src = previewUrl(frame, this.handled);
    try {
      await img.decode();
      if (generation !== this.generation) return;
      if (frame.frame < this.newest) {
        this.handled++; // a newer frame overtook it
      } else {
        if (this.ready) this.handled++; // decoded but never shown: dropped
        this.ready = { frame: frame.frame, img };
        this.newest = frame.frame;
        this.requestFrame();
      }
    } catch {
      if (generation === this.generation) this.handled++;
    } finally {
      if (generation === this.generation) this.loading--;
    }
    void this.loadNext();
  }

  private requestFrame(): void {
    if (this.frameRequested) return;
    this.frameRequested = true;
    requestAnimationFrame((now) => {
      this.frameRequested = false;
      const ready = this.ready;
      this.ready = null;
      if (!ready) return;
      this.handled++;
      if (!this.host) return;
      this.host.replaceChildren(ready.img);
      this.painted++;
      this.onPainted(now);
    });
  }
}
