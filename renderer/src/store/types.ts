// The studio store's shape: one zustand store built from slices (zustand's slices pattern), each in its
// own file. Components read it through narrow selectors so a progress event re-renders only the queue.
import type { StateCreator } from 'zustand';
import type { DeviceInfo, EngineState, ExportSummary, GenerationSettings, JobView, MediaBinEntry, MediaInfo, ModelPackageInfo, Project, Settings, VerifyResult, WatermarkCheck } from '../../../engine/service/contract.js';
import type { StudioHost } from '../host/host.js';

export type Screen = 'project' | 'generate' | 'queue' | 'settings' | 'training';

export interface Notice {
  id: number;
  message: string;
}

export interface UiSlice {
  screen: Screen;
  theme: 'dark' | 'light';
  notices: Notice[];
  engine: { state: EngineState; pid: number | null; message: string | null };
  /** Changes screen; the error banner does not follow to the next screen. */
  setScreen(s: Screen): void;
  setTheme(t: 'dark' | 'light'): void;
  /** Records a readable error for the banner; returns nothing so callers can `.catch(report)`. */
  report(e: unknown): void;
  dismiss(id: number): void;
}

export interface UploadProgress {
  kind: 'image' | 'audio';
  name: string;
  sent: number;
  total: number;
}

export interface ProjectSlice {
  project: Project | null;
  portrait: MediaInfo | null;
  speech: MediaInfo | null;
  busy: string | null;
  /** A file on its way to the studio (web host upload), for the progress bar. */
  upload: UploadProgress | null;
  /** Why the suggested crop may be off (no face found, several faces); null when there is nothing to say. */
  cropWarning: string | null;
  /** Sentences about accepted media that are not quite right (a speech file cut short). */
  mediaWarnings: string[];
  recent: { path: string; name: string; updatedAt: string }[];
  /** The open project's media bin, newest first. */
  bin: MediaBinEntry[];
  /** The name typed on the first screen: the project an import starts gets it. */
  draftName: string;
  setDraftName(name: string): void;
  loadRecent(): Promise<void>;
  loadBin(): Promise<void>;
  /** Opens a project file and re-registers its media (idempotent: copies are named by content hash). */
  openProject(path: string): Promise<void>;
  newProject(name: string): Promise<void>;
  /** Creates a project with the shipped sample portrait and speech. */
  trySample(): Promise<void>;
  renameProject(name: string): Promise<void>;
  duplicateProject(): Promise<void>;
  /** Moves the open project to the studio's trash and closes it. */
  deleteProject(): Promise<void>;
  closeProject(): void;
  importPortrait(path: string): Promise<void>;
  importSpeech(path: string): Promise<void>;
  /** A chosen, dropped or pasted File (uploaded by the web host; read in place by Electron). */
  importFile(file: File, kind: 'image' | 'audio'): Promise<void>;
  /** Makes a media-bin entry the portrait or the speech again. */
  useBinEntry(entry: MediaBinEntry): Promise<void>;
  /** Sends a recording's bytes (base64) through media.upload and makes it the project's speech. */
  uploadSpeech(name: string, dataBase64: string): Promise<void>;
  setCrop(crop: { x: number; y: number; size: number }): void;
  setTrim(trim: { start: number; end: number }): void;
  setGeneration(patch: Partial<GenerationSettings>): void;
  /** Saves the project; `quiet` (autosave) does not report a failure (the next loud save will). */
  save(quiet?: boolean): Promise<Project | null>;
}

export interface JobsSlice {
  jobs: JobView[];
  /** Live frames per job id (newest last, bounded). */
  frames: Record<string, string[]>;
  previewJobId: string | null;
  summary: ExportSummary | null;
  /** Watermark checks by job id. */
  checks: Record<string, WatermarkCheck | 'checking'>;
  refreshJobs(): Promise<void>;
  startPreview(seconds: number): Promise<void>;
  loadSummary(): Promise<void>;
  /** Queues an export; true when it was queued. */
  addExport(opts: { output?: string; watermark?: Settings['watermark'] }): Promise<boolean>;
  jobAction(id: string, action: 'pause' | 'resume' | 'cancel' | 'retry' | 'remove'): Promise<void>;
  moveJob(id: string, index: number): Promise<void>;
  openOutput(id: string, how: 'reveal' | 'open'): Promise<void>;
  verifyOutput(id: string): Promise<void>;
}

export interface SettingsSlice {
  settings: Settings | null;
  models: ModelPackageInfo[];
  device: DeviceInfo | null;
  verify: Record<string, VerifyResult>;
  modelProgress: { name: string; action: string; done: number; total: number; file: string } | null;
  loadSettings(): Promise<void>;
  /** Saves settings; resolves to the error sentence (for the field) or null when saved. */
  updateSettings(patch: Partial<Settings>): Promise<string | null>;
  /** Checks a folder the person chose; the error sentence, or null when it can be written to. */
  checkFolder(path: string): Promise<string | null>;
  refreshModels(): Promise<void>;
  importModel(folder: string): Promise<void>;
  verifyModel(name: string): Promise<void>;
  removeModel(name: string): Promise<void>;
  refreshDevice(): Promise<void>;
}

export type StudioState = UiSlice & ProjectSlice & JobsSlice & SettingsSlice;

/** A slice creator that also receives the host (the one dependency every slice's actions need). */
export type Slice<T> = (host: StudioHost) => StateCreator<StudioState, [], [], T>;
