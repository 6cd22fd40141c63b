// Lip-sync and motion measures for talking-head videos (what `refree eval` runs; the trainer and the
// model card call the same functions).
export type { EvalProgress, MotionSummary, MouthMeasure, VideoAnalysis } from './analyse.js';
export { MOUTH_MEASURES, analyseVideo } from './analyse.js';
export type { CalibrateOptions, CalibrationClip, CalibrationReport, MeasureCalibration } from './calibrate.js';
export { calibrate, separate } from './calibrate.js';
export { EvalError } from './errors.js';
export type { EvalErrorCode } from './errors.js';
export type { Correlation, EvalReport, EvaluateOptions, FrameStats, SyncReport, TruthReport } from './evaluate.js';
export { PRIMARY_MOUTH, SYNC_CONFIDENCE_THRESHOLD, compareVideos, evaluateVideo, syncAll, syncReport, truthCorrelations } from './evaluate.js';
export { PSNR_CAP, psnr, ssim } from './quality.js';
export { DEFAULT_MAX_OFFSET, circularShift, syncSearch } from './sync.js';
export { readTruth, truthVideoFor } from './truth.js';
