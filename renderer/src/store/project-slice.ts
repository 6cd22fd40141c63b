// The open project: portrait, crop, speech, trim and generation settings, plus the project list (new,
// open, rename, duplicate, delete, the sample) and the media bin. Edits change the store at once (no
// frozen UI) and are saved through projects.save before any job snapshots the project. A failed
// import changes nothing: the store is only updated with what the service accepted.
import type { MediaBinEntry, MediaInfo, Project } from '../../../engine/service/contract.js';
import { DEFAULT_GENERATION_SETTINGS } from './defaults.js';
import type { ProjectSlice, Slice } from './types.js';

/** Edits are saved this long after the last one (a drag or typing produces many). */
const AUTOSAVE_MS = 800;
const DEFAULT_NAME = 'My talking head';

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
  /** The open project, or a new one named as typed on the first screen. */
  const ensureProject = async () => {
    const p = get().project;
    if (p) return p;
    const created = await host.call('projects.create', { name: get().draftName.trim() || DEFAULT_NAME });
    set({ project: created });
    void get().loadRecent();
    return created;
  };
  const busy = async <T>(what: string, fn: () => Promise<T>): Promise<T | undefined> => {
    set({ busy: what });
    try {
      const r = await fn();
      // What went wrong before (a refused file, a failed open) is fixed once the next one succeeds.
      if (get().notices.length) set({ notices: [] });
      return r;
    } catch (e) {
      get().report(e);
      return undefined;
    } finally {
      set({ busy: null });
    }
  };
  const setSpeech = (project: Project, media: MediaInfo) => {
    const duration = media.duration ?? 0;
    set({ speech: media, mediaWarnings: media.warnings ?? [], project: { ...project, audio: { path: media.path, trim: duration > 0 ? { start: 0, end: duration } : null } } });
  };
  const setPortrait = async (project: Project, media: MediaInfo) => {
    // The initial box comes from face detection; if that fails the panel's centred box stays.
    const suggestion = await host.call('media.suggestCrop', { path: media.path }).catch((e: unknown) => {
      get().report(e);
      return null;
    });
    set({ portrait: media, mediaWarnings: media.warnings ?? [], cropWarning: suggestion?.warning ?? null, project: { ...project, portrait: { path: media.path, crop: suggestion?.box ?? null } } });
  };
  const show = async (project: Project) => {
    const portrait = project.portrait ? await host.call('media.import', { path: project.portrait.path, project: project.path, kind: 'image' }) : null;
    const speech = project.audio ? await host.call('media.import', { path: project.audio.path, project: project.path, kind: 'audio' }) : null;
    set({ project, portrait, speech, cropWarning: null, mediaWarnings: [] });
    void get().loadBin();
    void get().loadRecent();
  };
  return {
    project: null,
    portrait: null,
    speech: null,
    busy: null,
    upload: null,
    cropWarning: null,
    mediaWarnings: [],
    recent: [],
    bin: [],
    draftName: DEFAULT_NAME,
    setDraftName: (draftName) => set({ draftName }),
    loadRecent: async () => {
      try {
        set({ recent: await host.call('projects.recent', {}) });
      } catch (e) {
        get().report(e);
      }
    },
    loadBin: async () => {
      const p = get().project;
      if (!p) return set({ bin: [] });
      try {
        set({ bin: await host.call('media.list', { project: p.path }) });
      } catch {
        /* the bin is a convenience: the project itself is what matters */
      }
    },
    openProject: async (path) => {
      await busy('Opening the project', async () => show(await host.call('projects.open', { path })));
    },
    newProject: async (name) => {
      await busy('Creating the project', async () => {
        const project = await host.call('projects.create', { name: name.trim() || DEFAULT_NAME });
        set({ project, portrait: null, speech: null, cropWarning: null, mediaWarnings: [], bin: [] });
        void get().loadRecent();
      });
    },
    trySample: async () => {
      await busy('Opening the sample', async () => show(await host.call('projects.sample', {})));
    },
    renameProject: async (name) => {
      const p = get().project;
      if (!p || !name.trim() || name.trim() === p.name) return;
      await busy('Renaming the project', async () => {
        await get().save(true);
        const renamed = await host.call('projects.rename', { project: p.path, name });
        set({ project: { ...(get().project ?? renamed), name: renamed.name, updatedAt: renamed.updatedAt } });
        void get().loadRecent();
      });
    },
    duplicateProject: async () => {
      const p = get().project;
      if (!p) return;
      await busy('Duplicating the project', async () => {
        await get().save();
        await show(await host.call('projects.duplicate', { project: p.path }));
      });
    },
    deleteProject: async () => {
      const p = get().project;
      if (!p) return;
      await busy('Moving the project to the trash', async () => {
        await host.call('projects.delete', { project: p.path });
        get().closeProject();
        void get().loadRecent();
      });
    },
    closeProject: () => {
      if (timer) clearTimeout(timer);
      timer = null;
      set({ project: null, portrait: null, speech: null, cropWarning: null, mediaWarnings: [], bin: [] });
    },
    importPortrait: async (path) => {
      await busy('Importing the portrait', async () => {
        const project = await ensureProject();
        await setPortrait(project, await host.call('media.import', { path, project: project.path, kind: 'image' }));
        await get().save();
        void get().loadBin();
      });
    },
    importSpeech: async (path) => {
      await busy('Importing the speech', async () => {
        const project = await ensureProject();
        setSpeech(project, await host.call('media.import', { path, project: project.path, kind: 'audio' }));
        await get().save();
        void get().loadBin();
      });
    },
    importFile: async (file, kind) => {
      await busy(kind === 'image' ? 'Importing the portrait' : 'Importing the speech', async () => {
        const project = await ensureProject();
        set({ upload: { kind, name: file.name, sent: 0, total: file.size } });
        try {
          const media = await host.importFile(file, kind, project.path, (sent, total) => set({ upload: { kind, name: file.name, sent, total } }));
          const now = get().project ?? project;
          if (kind === 'image') await setPortrait(now, media);
          else setSpeech(now, media);
        } finally {
          set({ upload: null });
        }
        await get().save();
        void get().loadBin();
      });
    },
    useBinEntry: async (entry: MediaBinEntry) => {
      const p = get().project;
      if (!p) return;
      await busy(entry.kind === 'image' ? 'Using the portrait' : 'Using the speech', async () => {
        const media = await host.call('media.import', { path: entry.path, project: p.path, kind: entry.kind });
        if (entry.kind === 'image') await setPortrait(p, media);
        else setSpeech(p, media);
        await get().save();
        void get().loadBin();
      });
    },
    uploadSpeech: async (name, dataBase64) => {
      await busy('Uploading the recording', async () => {
        const project = await ensureProject();
        setSpeech(project, await host.call('media.upload', { name, kind: 'audio', dataBase64, project: project.path }));
        await get().save();
        void get().loadBin();
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
