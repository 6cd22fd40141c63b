// Synthetic test material for the watermark tests: a face-like clip (gradients, skin and hair
// texture, a textured background, head motion, a moving mouth and blinks) and a flat grey clip,
// plus small ffmpeg helpers to encode raw frames and to run attacks (re-encode, downscale, cut).
// Deterministic for a seed; small sizes so real encodes stay fast.
import { spawn, execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ffmpegPath } from '../runtime/ffmpeg.js';

const run = promisify(execFile);

/** A smooth random field in about [-1, 1]: value noise, several octaves, seeded. */
export function valueNoise(w: number, h: number, seed: number, baseCell: number, octaves: number): Float32Array {
  const out = new Float32Array(w * h);
  let s = seed >>> 0 || 1;
  const rnd = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return ((s >>> 0) / 4294967296) * 2 - 1;
  };
  let amp = 1;
  let norm = 0;
  for (let o = 0, cell = baseCell; o < octaves; o++, cell /= 2, amp /= 2) {
    const gw = Math.ceil(w / cell) + 2;
    const gh = Math.ceil(h / cell) + 2;
    const grid = Float32Array.from({ length: gw * gh }, rnd);
    for (let y = 0; y < h; y++) {
      const fy = y / cell;
      const y0 = Math.floor(fy);
      let ty = fy - y0;
      ty = ty * ty * (3 - 2 * ty);
      for (let x = 0; x < w; x++) {
        const fx = x / cell;
        const x0 = Math.floor(fx);
        let tx = fx - x0;
        tx = tx * tx * (3 - 2 * tx);
        const a = grid[y0 * gw + x0]! * (1 - tx) + grid[y0 * gw + x0 + 1]! * tx;
        const b = grid[(y0 + 1) * gw + x0]! * (1 - tx) + grid[(y0 + 1) * gw + x0 + 1]! * tx;
        out[y * w + x] = out[y * w + x]! + amp * (a * (1 - ty) + b * ty);
      }
    }
    norm += amp;
  }
  for (let i = 0; i < out.length; i++) out[i] = out[i]! / norm;
  return out;
}

export interface FaceClip {
  width: number;
  height: number;
  frames: number;
  frame(i: number): Uint8Array;
}

/** A talking-head-like clip: static textured background, a face that moves, talks and blinks. */
export function faceClip(width: number, height: number, frames: number, seed = 1, fps = 15): FaceClip {
  const pad = 16;
  const W = width + 2 * pad;
  const H = height + 2 * pad;
  const wall = valueNoise(width, height, seed * 7 + 1, width / 4, 5);
  const grain = valueNoise(width, height, seed * 7 + 2, 4, 2);
  const skin = valueNoise(W, H, seed * 7 + 3, 6, 3);
  const hair = valueNoise(W, H, seed * 7 + 4, 3, 2);
  const cloth = valueNoise(width, height, seed * 7 + 5, 10, 3);
  const hue = (seed * 37) % 40;
  return {
    width,
    height,
    frames,
    frame(i: number): Uint8Array {
      const t = i / fps;
      const cx = width / 2 + 0.05 * width * Math.sin(2 * Math.PI * t / 2.7);
      const cy = height * 0.44 + 0.02 * height * Math.sin(2 * Math.PI * t / 1.9);
      const rx = width * 0.26;
      const ry = height * 0.34;
      const mouthOpen = 0.5 + 0.5 * Math.sin(2 * Math.PI * t * 2.3);
      const blink = (t % 2.2) < 0.15;
      const rgb = new Uint8Array(width * height * 3);
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          const i0 = y * width + x;
          // Background: a vertical gradient, a large-scale wall texture and fine grain.
          let r = 70 + 60 * (y / height) + 25 * wall[i0]! + 6 * grain[i0]!;
          let g = r * 0.95 + hue * 0.3;
          let b = r * 0.85 + 20;
          // Shoulders/shirt.
          const sh = (y - height * 1.05) / (height * 0.35);
          const sw = (x - cx) / (width * 0.45);
          if (sw * sw + sh * sh < 1) {
            const v = 60 + 30 * cloth[i0]! + 12 * Math.sin(x * 0.5 + y * 0.2);
            r = v * 0.5;
            g = v * 0.6;
            b = v;
          }
          const dx = (x - cx) / rx;
          const dy = (y - cy) / ry;
          const d2 = dx * dx + dy * dy;
          // Texture coordinates move with the head.
          const tx = Math.min(W - 1, Math.max(0, Math.round(x - cx + width / 2 + pad)));
          const ty = Math.min(H - 1, Math.max(0, Math.round(y - cy + height * 0.44 + pad)));
          const ti = ty * W + tx;
          if (d2 < 1) {
            const shade = 1 - 0.35 * d2 + 0.1 * dx;
            r = (200 + 8 * skin[ti]!) * shade;
            g = (150 + 7 * skin[ti]!) * shade;
            b = (125 + 6 * skin[ti]!) * shade;
            // Eyes.
            for (const ex of [-0.38, 0.38]) {
              const ux = (dx - ex) / 0.17;
              const uy = (dy + 0.15) / (blink ? 0.02 : 0.09);
              if (ux * ux + uy * uy < 1) {
                const iris = ux * ux * 2.2 + uy * uy < 0.35;
                r = g = b = iris ? 40 : 235;
              }
            }
            // Brows.
            const by = (dy + 0.33) / 0.04;
            if (Math.abs(by) < 1 && Math.abs(Math.abs(dx) - 0.38) < 0.2) [r, g, b] = [70, 50, 40];
            // Mouth.
            const mx = dx / 0.3;
            const my = (dy - 0.45) / (0.03 + 0.09 * mouthOpen);
            if (mx * mx + my * my < 1) [r, g, b] = [110, 35, 40];
          }
          // Hair: a cap above the face, strongly textured.
          const hy = (y - (cy - ry * 0.55)) / (ry * 0.75);
          const hx = (x - cx) / (rx * 1.12);
          if (hx * hx + hy * hy < 1 && (d2 > 0.9 || dy < -0.55)) {
            const v = 45 + 35 * hair[ti]! + 10 * Math.sin((x - cx) * 1.3);
            r = v;
            g = v * 0.8;
            b = v * 0.6;
          }
          const p = i0 * 3;
          rgb[p] = Math.max(0, Math.min(255, Math.round(r)));
          rgb[p + 1] = Math.max(0, Math.min(255, Math.round(g)));
          rgb[p + 2] = Math.max(0, Math.min(255, Math.round(b)));
        }
      }
      return rgb;
    },
  };
}

/** A clip of one grey level, or grey with fixed-pattern grain of std `grain` levels. */
export function flatClip(width: number, height: number, frames: number, level = 128, grain = 0, seed = 3): FaceClip {
  const noise = grain > 0 ? valueNoise(width, height, seed, 1.5, 1) : null;
  return {
    width,
    height,
    frames,
    frame(): Uint8Array {
      const rgb = new Uint8Array(width * height * 3);
      for (let i = 0; i < width * height; i++) {
        const v = Math.max(0, Math.min(255, Math.round(level + (noise ? grain * 2.2 * noise[i]! : 0))));
        rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = v;
      }
      return rgb;
    },
  };
}

export interface EncodeOptions {
  fps?: number;
  crf?: number;
  preset?: string;
  /** Extra output arguments (e.g. metadataArgs(...)). */
  extra?: string[];
}

/** Encodes RGB frames (already in memory or generated lazily) to an H.264 MP4 through ffmpeg's stdin. */
export async function encodeFrames(frames: Iterable<Uint8Array>, width: number, height: number, out: string, opts: EncodeOptions = {}): Promise<void> {
  const args = ['-v', 'error', '-y', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${width}x${height}`, '-r', String(opts.fps ?? 15), '-i', '-', '-c:v', 'libx264', '-preset', opts.preset ?? 'veryfast', '-crf', String(opts.crf ?? 18), '-pix_fmt', 'yuv420p', ...(opts.extra ?? []), out];
  const p = spawn(ffmpegPath(), args, { stdio: ['pipe', 'ignore', 'pipe'] });
  let err = '';
  p.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const done = new Promise<void>((resolve, reject) => {
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg encode failed (${code}): ${err}`))));
  });
  p.stdin.on('error', () => undefined);
  for (const f of frames) {
    if (!p.stdin.write(f)) await new Promise((r) => p.stdin.once('drain', r));
  }
  p.stdin.end();
  await done;
}

/** Runs ffmpeg on a file: an attack such as a re-encode, a downscale or a cut (`inputArgs` go before -i). */
export async function transcode(input: string, output: string, args: string[], inputArgs: string[] = []): Promise<void> {
  await run(ffmpegPath(), ['-v', 'error', '-y', ...inputArgs, '-i', input, ...args, output]);
}
