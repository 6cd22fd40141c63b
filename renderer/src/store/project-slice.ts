// The open project: portrait, crop, speech, trim and generation settings. Edits change the store at
// once (no frozen UI) and are saved through projects.save before any job snapshots the project.
import type { MediaInfo, Project } from '../../../engine/service/contract.js';
import { DEFAULT_GENERATION_SETTINGS } from './defaults.js';
import type { ProjectSlice, Slice } from './types.js';

/** Edits are saved this long after the last one (a drag or typing produces many). */
const AUTOSAVE_MS = 800;

export const createProjectSlice: Slice<ProjectSlice> = (host) => (set, get) => {
  let timer: ReturnType<typeof setTimeout> | null = null;
  const autosave = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      // Quiet: a half-typed field (steps "") must not raise a banner; Generate/Export save loudly.
      void get().save(true);
    }, AUTOSAVE_MS);
  };
  const ensureProject = async () => {
    const p = get().project;
    if (p) return p;
    const created = await host.call('projects.create', { name: 'Untitled project' });
    set({ project: created });
    return created;
  };
  const busy = async <T>(what: string, fn: () => Promise<T>): Promise<T | undefined> => {
    set({ busy: what });
    try {
      return await fn();
    } catch (e) {
      get().report(e);
      return undefined;
    } finally {
      set({ busy: null });
    }
  };
  const setSpeech = (project: Project, media: MediaInfo) => {
    const duration = media.duration ?? 0;
    set({ speech: media, project: { ...project, audio: { path: media.path, trim: duration > 0 ? { start: 0, end: duration } : null } } });
  };
  return {
    project: null,
    portrait: null,
    speech: null,
    busy: null,
    cropWarning: null,
    recent: [],
    loadRecent: async () => {
      try {
        set({ recent: await host.call('projects.recent', {}) });
      } catch (e) {
        get().report(e);
      }
    },
    openProject: async (path) => {
      await busy('Opening the project', async () => {
        const project = await host.call('projects.open', { path });
        const portrait = project.portrait ? await host.call('media.import', { path: project.portrait.path, project: project.path, kind: 'image' }) : null;
        const speech = project.audio ? await host.call('media.import', { path: project.audio.path, project: project.path, kind: 'audio' }) : null;
        set({ project, portrait, speech, cropWarning: null });
      });
    },
    newProject: async (name) => {
      await busy('Creating the project', async () => {
        const project = await host.call('projects.create', { name });
        set({ project, portrait: null, speech: null, cropWarning: null });
      });
    },
    importPortrait: async (path) => {
      await busy('Importing the portrait', async () => {
        const project = await ensureProject();
        const media = await host.call('media.import', { path, project: project.path, kind: 'image' });
        // The initial box comes from face detection; if that fails the panel's centred box stays.
        const suggestion = await host.call('media.suggestCrop', { path: media.path }).catch((e: unknown) => {
          get().report(e);
          return null;
        });
        set({ portrait: media, cropWarning: suggestion?.warning ?? null, project: { ...project, portrait: { path: media.path, crop: suggestion?.box ?? null } } });
        await get().save();
      });
    },
    importSpeech: async (path) => {
      await busy('Importing the speech', async () => {
        const project = await ensureProject();
        setSpeech(project, await host.call('media.import', { path, project: project.path, kind: 'audio' }));
        await get().save();
      });
    },
    uploadSpeech: async (name, dataBase64) => {
      await busy('Uploading the recording', async () => {
        const project = await ensureProject();
        setSpeech(project, await host.call('media.upload', { name, kind: 'audio', dataBase64, project: project.path }));
        await get().save();
      });
    },
    setCrop: (crop) => {
      const p = get().project;
      if (!p?.portrait) return;
      set({ project: { ...p, portrait: { ...p.portrait, crop } } });
      autosave();
    },
    setTrim: (trim) => {
      const p = get().project;
      if (!p?.audio) return;
      set({ project: { ...p, audio: { ...p.audio, trim } } });
      autosave();
    },
    setGeneration: (patch) => {
      const p = get().project;
      if (!p) return;
      set({ project: { ...p, settings: { ...DEFAULT_GENERATION_SETTINGS, ...p.settings, ...patch } } });
      autosave();
    },
    save: async (quiet = false) => {
      if (timer) {
        clearTimeout(timer);
        timer = null;
      }
      const p = get().project;
      if (!p) return null;
      try {
        const saved = await host.call('projects.save', { project: p });
        // Keep edits made while the save was in flight; take only the server's timestamp.
        const now = get().project;
        set({ project: now ? { ...now, updatedAt: saved.updatedAt } : saved });
        return saved;
      } catch (e) {
        if (!quiet) get().report(e);
        return null;
      }
    },
  };
};
