// media.*: import (validated at the door, content-addressed), upload (recordings), the project's media
// bin, the face-crop suggestion and the watermark check of a finished video.
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { blazeFaceDetector } from '../../media/face-detector.js';
import type { FaceDetector } from '../../media/face-detector.js';
import { isImageFormat, probeMedia } from '../../media/probe.js';
import { verifyVideo } from '../../watermark/verify.js';
import type { CropSuggestion, Handlers, MediaBinEntry, WatermarkCheck } from '../contract.js';
import { UPLOAD_AUDIO_EXTENSIONS, UPLOAD_IMAGE_EXTENSIONS } from '../contract.js';
import type { ServiceContext } from '../context.js';
import { suggestCrop } from '../crop-suggest.js';
import { ServiceError } from '../errors.js';
import { importMedia } from '../media-import.js';
import { uploadMedia } from '../media-upload.js';

type MediaHandlers = Pick<Handlers, 'media.import' | 'media.upload' | 'media.list' | 'media.verify' | 'media.suggestCrop'>;

/** Where imported media go: the (known) project's media/ folder, or <data>/imports without a project. */
export async function mediaDir(ctx: ServiceContext, project: string | undefined): Promise<string> {
  if (!project) return path.join(ctx.dataDir, 'imports');
  return path.join(path.dirname(await ctx.projects.requireKnown(project)), 'media');
}

const KIND_BY_EXT = new Map<string, 'image' | 'audio'>([...UPLOAD_IMAGE_EXTENSIONS.map((e) => [e, 'image'] as const), ...UPLOAD_AUDIO_EXTENSIONS.map((e) => [e, 'audio'] as const)]);

// The face detector loads in about half a second: once per process, on first use; a failed load is retried next time.
let detector: Promise<FaceDetector> | null = null;
export async function suggestCropFor(file: string): Promise<CropSuggestion> {
  detector ??= blazeFaceDetector({ minScore: 0 }).catch((e: unknown) => {
    detector = null;
    throw e;
  });
  return suggestCrop(file, await detector);
}

export function mediaHandlers(ctx: ServiceContext): MediaHandlers {
  return {
    'media.import': async ({ path: src, project, kind }) => importMedia(src, await mediaDir(ctx, project), kind, (abs) => ctx.urlFor(abs)),
    'media.upload': async ({ name, dataBase64, project }) => uploadMedia(name, dataBase64, await mediaDir(ctx, project), (abs) => ctx.urlFor(abs)),

    'media.list': async ({ project }) => {
      const file = await ctx.projects.requireKnown(project);
      const dir = path.join(path.dirname(file), 'media');
      const p = await ctx.projects.open(file);
      const used = new Set([p.portrait?.path, p.audio?.path].filter(Boolean).map((x) => path.resolve(x!)));
      const out: MediaBinEntry[] = [];
      for (const name of await readdir(dir).catch(() => [] as string[])) {
        if (name.startsWith('.')) continue;
        const kind = KIND_BY_EXT.get(path.extname(name).slice(1).toLowerCase());
        const abs = path.join(dir, name);
        const st = await stat(abs).catch(() => null);
        if (!kind || !st?.isFile()) continue;
        out.push({ path: abs, url: ctx.urlFor(abs), kind, name: name.replace(/^[0-9a-f]{12,16}-/, ''), bytes: st.size, addedAt: st.mtime.toISOString(), inUse: used.has(abs) });
      }
      return out.sort((a, b) => b.addedAt.localeCompare(a.addedAt));
    },

    'media.verify': async ({ path: file }): Promise<WatermarkCheck> => {
      const st = await stat(file).catch(() => null);
      if (!st) throw new ServiceError('not-found', `There is no file at ${file}; it may have been moved or deleted.`);
      if (!st.isFile()) throw new ServiceError('bad-input', `${file} is a folder; choose a video file.`);
      const probed = await probeMedia(file);
      if (!probed || isImageFormat(probed.formatName) || !probed.streams.some((s) => s.codecType === 'video')) throw new ServiceError('bad-input', `${path.basename(file)} is not a video the studio can read; choose an .mp4 or .webm file.`);
      const r = await verifyVideo(file);
      const found = r.watermark.found;
      const labelled = r.metadata.aiGenerated;
      const summary = found
        ? `The invisible watermark is present (payload ${r.watermark.payload}, confidence ${(r.watermark.confidence * 100).toFixed(0)}%)${labelled ? ' and the file is labelled AI-generated' : '; the AI-generated label in the file metadata is missing (it may have been re-encoded)'}.`
        : labelled
          ? 'The file is labelled AI-generated, but the invisible watermark was not found (the video may have been heavily edited or re-encoded).'
          : 'No watermark and no AI-generated label were found in this video.';
      return {
        file,
        found,
        payload: r.watermark.payload,
        confidence: r.watermark.confidence,
        labelledAi: labelled,
        generator: r.metadata.generator,
        model: r.watermark.model ?? r.metadata.model,
        jobId: r.watermark.job ?? r.metadata.jobId,
        frames: r.watermark.frames,
        summary,
      };
    },

    'media.suggestCrop': ({ path: file }) => suggestCropFor(file),
  };
}
