// Builds a Y4M video (the format Chromium's fake camera reads) from a real face photograph,
// framed like a webcam: 640x480, the face about a third of the frame wide, drifting by a few
// pixels from frame to frame (hand motion) with a little sensor noise, so that no two frames are
// identical. Usage: node make-y4m.mjs PHOTO.jpg OUT.y4m [frames]
import fs from 'node:fs';
import jpeg from 'jpeg-js';

// Face box of biometrics/face/tests/data/obama.jpg as BlazeFace reports it (`face analyze`).
const FACE = { cx: 348.3 + 276.9 / 2, cy: 142.3 + 276.9 / 2, width: 276.9 };
const W = 640, H = 480, FPS = 10;

export function makeY4m(photo, out, frames = 40) {
  const img = jpeg.decode(fs.readFileSync(photo), { useTArray: true, formatAsRGBA: true });
  const scale = (0.35 * W) / FACE.width;
  const parts = [Buffer.from(`YUV4MPEG2 W${W} H${H} F${FPS}:1 Ip A1:1 C420jpeg\n`)];
  let seed = 12345;
  const rand = () => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed / 0x7fffffff; };
  for (let f = 0; f < frames; f++) {
    const dx = 6 * Math.sin(0.7 * f), dy = 4 * Math.cos(0.5 * f);
    const rgb = new Float32Array(W * H * 3);
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        // Bilinear sample of the photo at the source point that lands on (x, y).
        const sx = FACE.cx + (x - W / 2 - dx) / scale, sy = FACE.cy + (y - H / 2 - dy) / scale;
        const x0 = Math.floor(sx), y0 = Math.floor(sy), fx = sx - x0, fy = sy - y0;
        for (let c = 0; c < 3; c++) {
          const px = (xx, yy) => (xx < 0 || yy < 0 || xx >= img.width || yy >= img.height) ? 0 : img.data[(yy * img.width + xx) * 4 + c];
          const v = (1 - fy) * ((1 - fx) * px(x0, y0) + fx * px(x0 + 1, y0)) + fy * ((1 - fx) * px(x0, y0 + 1) + fx * px(x0 + 1, y0 + 1));
          rgb[(y * W + x) * 3 + c] = v + (rand() - 0.5) * 4;
        }
      }
    }
    // BT.601 full-range RGB -> YUV 4:2:0.
    const Y = Buffer.alloc(W * H), U = Buffer.alloc(W * H / 4), V = Buffer.alloc(W * H / 4);
    const clamp = (v) => Math.max(0, Math.min(255, Math.round(v)));
    for (let i = 0; i < W * H; i++) {
      const r = rgb[i * 3], g = rgb[i * 3 + 1], b = rgb[i * 3 + 2];
      Y[i] = clamp(0.299 * r + 0.587 * g + 0.114 * b);
    }
    for (let y = 0; y < H / 2; y++) {
      for (let x = 0; x < W / 2; x++) {
        let r = 0, g = 0, b = 0;
        for (const [ox, oy] of [[0, 0], [1, 0], [0, 1], [1, 1]]) {
          const i = ((2 * y + oy) * W + 2 * x + ox) * 3;
          r += rgb[i] / 4; g += rgb[i + 1] / 4; b += rgb[i + 2] / 4;
        }
        U[y * W / 2 + x] = clamp(128 - 0.168736 * r - 0.331264 * g + 0.5 * b);
        V[y * W / 2 + x] = clamp(128 + 0.5 * r - 0.418688 * g - 0.081312 * b);
      }
    }
    parts.push(Buffer.from('FRAME\n'), Y, U, V);
  }
  fs.writeFileSync(out, Buffer.concat(parts));
}

if (process.argv[1] && process.argv[1].endsWith('make-y4m.mjs')) {
  const [photo, out, n] = process.argv.slice(2);
  if (!photo || !out) { console.error('usage: node make-y4m.mjs PHOTO.jpg OUT.y4m [frames]'); process.exit(2); }
  makeY4m(photo, out, n ? Number(n) : 40);
  console.log(out);
}
