// Where ffmpeg and ffprobe come from (DESIGN 12), in this order:
//   1. FFMPEG_PATH / FFPROBE_PATH: an explicit override; if it is set but broken we say so and stop,
//      because silently using another binary would hide the user's mistake;
//   2. the binary shipped inside @ffmpeg-installer/ffmpeg / @ffprobe-installer/ffprobe (no download
//      at install time, so offline installs work);
//   3. the system's ffmpeg on PATH.
// A candidate counts only if `<tool> -version` runs and exits 0; each rejected candidate gets a line.
import { execFileSync } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

export type MediaTool = 'ffmpeg' | 'ffprobe';
export type ToolSource = 'env' | 'package' | 'system';

export interface ToolResolution {
  tool: MediaTool;
  path: string | null;
  source: ToolSource | null;
  /** Human label of the source, e.g. "FFMPEG_PATH", "@ffmpeg-installer/ffmpeg", "system PATH". */
  sourceLabel: string | null;
  /** From the first line of `-version`, e.g. "5.1.9-0+deb12u1". */
  version: string | null;
  /** One line per candidate that was looked at and rejected. */
  tried: string[];
  /** When not found: what to do. */
  advice: string | null;
}

export interface ResolveOptions {
  env?: NodeJS.ProcessEnv;
  /** Which sources to consult, in order (default all three). */
  sources?: readonly ToolSource[];
}

const ENV_VAR: Record<MediaTool, string> = { ffmpeg: 'FFMPEG_PATH', ffprobe: 'FFPROBE_PATH' };
const PACKAGE: Record<MediaTool, string> = { ffmpeg: '@ffmpeg-installer/ffmpeg', ffprobe: '@ffprobe-installer/ffprobe' };

/** Runs `<bin> -version`: the version string, or why the binary is unusable. */
export function probeTool(bin: string): { version: string } | { problem: string } {
  try {
    const st = statSync(bin);
    if (!st.isFile()) return { problem: `${bin} is not a file` };
  } catch {
    return { problem: `${bin} does not exist` };
  }
  try {
    accessSync(bin, constants.X_OK);
  } catch {
    return { problem: `${bin} is not executable (its package install script did not run; \`chmod +x ${bin}\` fixes it)` };
  }
  try {
    const out = execFileSync(bin, ['-version'], { timeout: 15_000, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 20 }).toString();
    const first = out.split('\n')[0] ?? '';
    const m = /version\s+(\S+)/.exec(first);
    return { version: m ? m[1]! : first.trim() || 'unknown' };
  } catch (e) {
    return { problem: `${bin} -version failed (${(e as Error).message.split('\n')[0]})` };
  }
}

function packageBinary(tool: MediaTool): string | { problem: string } {
  try {
    const mod = createRequire(import.meta.url)(PACKAGE[tool]) as { path?: unknown };
    if (typeof mod.path !== 'string') return { problem: `${PACKAGE[tool]} did not report a binary path` };
    return mod.path;
  } catch (e) {
    // These packages throw plain strings as well as Errors.
    const msg = e instanceof Error ? e.message : String(e);
    return { problem: `${PACKAGE[tool]} is not usable here (${msg.split('\n')[0]})` };
  }
}

function onPath(tool: MediaTool, env: NodeJS.ProcessEnv): string | null {
  const names = process.platform === 'win32' ? [`${tool}.exe`] : [tool];
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    for (const n of names) {
      const p = path.join(dir, n);
      try {
        if (statSync(p).isFile()) return p;
      } catch {
        /* not here */
      }
    }
  }
  return null;
}

/** Finds ffmpeg or ffprobe, uncached (doctor and tests); see ffmpegPath()/ffprobePath() for the cached form. */
export function resolveTool(tool: MediaTool, opts: ResolveOptions = {}): ToolResolution {
  const env = opts.env ?? process.env;
  const sources = opts.sources ?? ['env', 'package', 'system'];
  const tried: string[] = [];
  const found = (p: string, source: ToolSource, sourceLabel: string, version: string): ToolResolution => ({ tool, path: p, source, sourceLabel, version, tried, advice: null });
  for (const source of sources) {
    if (source === 'env') {
      const v = env[ENV_VAR[tool]];
      if (!v) continue;
      const r = probeTool(v);
      if ('version' in r) return found(v, 'env', ENV_VAR[tool], r.version);
      // An explicit override that does not work is an error, not a reason to pick another binary.
      return { tool, path: null, source: null, sourceLabel: null, version: null, tried: [...tried, `${ENV_VAR[tool]}: ${r.problem}`], advice: `${ENV_VAR[tool]} is set to ${v}, which is not a working ${tool}; point it at a ${tool} binary or unset it` };
    } else if (source === 'package') {
      const p = packageBinary(tool);
      if (typeof p !== 'string') {
        tried.push(`package: ${p.problem}`);
        continue;
      }
      const r = probeTool(p);
      if ('version' in r) return found(p, 'package', PACKAGE[tool], r.version);
      tried.push(`package: ${r.problem}`);
    } else {
      const p = onPath(tool, env);
      if (!p) {
        tried.push(`system: no ${tool} on PATH`);
        continue;
      }
      const r = probeTool(p);
      if ('version' in r) return found(p, 'system', 'system PATH', r.version);
      tried.push(`system: ${r.problem}`);
    }
  }
  return {
    tool,
    path: null,
    source: null,
    sourceLabel: null,
    version: null,
    tried,
    advice: `${tool} not found: run \`npm ci\` (the ${PACKAGE[tool]} package ships it), or set ${ENV_VAR[tool]} to a ${tool} binary, or install ffmpeg on the system (Debian/Ubuntu: \`sudo apt install ffmpeg\`)`,
  };
}

const cache = new Map<MediaTool, string>();

function cachedPath(tool: MediaTool): string {
  const hit = cache.get(tool);
  if (hit) return hit;
  const r = resolveTool(tool);
  if (!r.path) throw new Error(r.advice ?? `${tool} not found`);
  cache.set(tool, r.path);
  return r.path;
}

/** The ffmpeg binary to run (resolved once per process); throws with what to do when there is none. */
export const ffmpegPath = (): string => cachedPath('ffmpeg');
export const ffprobePath = (): string => cachedPath('ffprobe');
