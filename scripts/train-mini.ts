// `npm run train:mini`: the whole refree-mini recipe as one resumable command.
//
//   synth (train, DPO and held-out clips) → VAE → its decoder again on noisy latents, weighing every
//   face's edges → base package → prepare → SFT → merge → SFT continued at a lower learning rate → DPO
//   → merge → SFT with half the windows anchored on the portrait → merge → that model with the decoder,
//   the spec's sampler settings and the portrait anchor (shipped) → eval
//
// Every stage is a `refree` command run as a child process (its output goes to <run>/logs/<stage>.log
// and its one reproducing command is printed first), or a small in-process step. A stage that finished
// is skipped; a training stage stopped part-way (Ctrl-C, a kill, or its time budget) continues from its
// last checkpoint when the same command is run again. Options:
//   --run <dir>            where everything lives (default ../refree-mini-run beside the repository)
//   --quick                a smoke run of every stage on a few short clips (a couple of minutes); its
//                          package stays in the run folder
//   --budget-minutes <n>   wall-clock limit of each stage in this invocation: a training stage that
//                          reaches it saves a checkpoint and the script stops (run it again to go on)
//   --install              (full runs) copy the shipped package into assets/models/refree-mini/
import { cp, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { MiniSpec } from '../engine/train/vae/mini-package.js';
import { writeMiniPackage } from '../engine/train/vae/mini-package.js';
import { GENERATION_DEFAULTS_FILE } from '../engine/pipeline/defaults.js';
import { PREVIEW_FILE } from '../engine/generate/preview-fit.js';
import { writeWithDecoder } from '../engine/train/vae/with-decoder.js';
import { pixelFrameCount } from '../engine/model/vae/geometry.js';
import type { GroupStats } from './lib/held-out-eval.js';
import { DARKER_SKIN_LUMA, evaluateHeldOut, groupStats, measuredBySkinTone, statsTable } from './lib/held-out-eval.js';
import type { EvalRow } from './lib/held-out-eval.js';
import type { MeasureDifferences } from './lib/paired.js';
import { formatDifference, measureDifferences } from './lib/paired.js';
import type { LimitKey } from './lib/mouth-limits.js';
import { LIMITS_DIR, readLimits } from './lib/mouth-limits.js';
import type { SilenceRow } from './lib/silence-check.js';
import { SILENCE_S, silenceCheck, silenceSummary } from './lib/silence-check.js';
import { clipCount, exists, flagReader, Paused, ROOT as root, stepRunner } from './lib/recipe-steps.js';

const SPEC_FILE = path.join(root, 'assets', 'models', 'refree-mini', 'spec.json');
const args = process.argv.slice(2);
const flag = flagReader(args);
const quick = args.includes('--quick');
const run = path.resolve(flag('run') ?? path.join(root, '..', quick ? 'refree-mini-quick' : 'refree-mini-run'));
const budgetS = flag('budget-minutes') !== undefined ? Number(flag('budget-minutes')) * 60 : Infinity;
if (!(budgetS > 0)) throw new Error(`--budget-minutes must be a positive number, got ${flag('budget-minutes')}`);

/** The recipe. The full numbers are what the shipped model was trained with (see its model card). */
/** Largest standard deviation of the latent noise the shipped decoder is trained with (latents have std 1). */
const DECODER_NOISE = '1';
/** Weight of each face's own edges in the shipped decoder's loss (`refree train vae --detail`), so darker faces keep their features. */
const DECODER_DETAIL = '2';

const R = quick
  ? { train: { count: 6, seconds: 2 }, dpoClips: { count: 2, seconds: 2 }, heldout: { count: 1, seconds: 2 }, test: { count: 1, seconds: 2 }, vae: ['--steps', '3', '--batch', '1', '--frames', '5', '--max-clips', '6', '--checkpoint-every', '3'], vaeLong: ['--steps', '2', '--batch', '1', '--frames', '17', '--lr', '5e-4', '--warmup', '1', '--max-clips', '6', '--checkpoint-every', '2'], sft: ['--steps', '3', '--batch', '1', '--frames', '3', '--lr', '3e-4', '--warmup', '1', '--checkpoint-every', '3'], sftMore: ['--steps', '2', '--batch', '1', '--frames', '3', '--lr', '1e-4', '--warmup', '1', '--checkpoint-every', '2'], sftAnchor: ['--steps', '2', '--batch', '1', '--frames', '3', '--lr', '1e-4', '--warmup', '1', '--checkpoint-every', '2', '--anchor-share', '0.5'], dpo: ['--steps', '2', '--batch', '1', '--frames', '3', '--sample-steps', '2', '--checkpoint-every', '2'], decoder: ['--decoder-only', '--latent-noise', '0.5', '--detail', DECODER_DETAIL, '--steps', '2', '--batch', '1', '--frames', '5', '--max-clips', '6', '--checkpoint-every', '2'], evalClips: 1, long: { count: 1, seconds: 3 }, minute: { count: 1, seconds: 4 } }
  : {
      train: { count: 400, seconds: 4 },
      dpoClips: { count: 60, seconds: 4 },
      heldout: { count: 24, seconds: 4 },
      // Measured once at the end and never used to choose a setting (the held-out clips chose the
      // sampler settings and the decoder), so their numbers carry no selection.
      test: { count: 40, seconds: 4 },
      vae: ['--steps', '3000', '--batch', '2', '--frames', '5', '--max-clips', '120', '--checkpoint-every', '25'],
      // Phase 2: windows of 33 frames (longer than the decoder's temporal reach), so the causal caches
      // behave over a whole video as they do in training (5-frame windows alone fall to 15 dB at 17 frames).
      vaeLong: ['--steps', '600', '--batch', '1', '--frames', '33', '--lr', '5e-4', '--warmup', '20', '--max-clips', '120', '--checkpoint-every', '25'],
      sft: ['--steps', '10000', '--batch', '4', '--frames', '9', '--lr', '3e-4', '--warmup', '200', '--checkpoint-every', '250'],
      // A second cosine cycle from the merged first one, at a third of the learning rate.
      sftMore: ['--steps', '6000', '--batch', '4', '--frames', '9', '--lr', '1e-4', '--warmup', '100', '--checkpoint-every', '250'],
      // A third, short SFT stage in which half of the windows are later chunks that also see the portrait
      // (frame 0 the clip's first latent, frame 1 the motion frame): the shipped package samples every
      // chunk after the first so, and keeps the portrait's face over a minute of speech.
      sftAnchor: ['--steps', '2000', '--batch', '4', '--frames', '9', '--lr', '1e-4', '--warmup', '50', '--checkpoint-every', '250', '--anchor-share', '0.5'],
      dpo: ['--steps', '300', '--batch', '1', '--frames', '9', '--lr', '1e-5', '--beta', '2500', '--sample-steps', '6', '--checkpoint-every', '50'],
      // The shipped decoder: trained again against the frozen encoder with noisy latents, so it draws
      // clean frames from the slightly-off latents the DiT samples (the encoder, and so the latent space,
      // stay exactly vae-long's).
      decoder: ['--decoder-only', '--latent-noise', DECODER_NOISE, '--detail', DECODER_DETAIL, '--steps', '1500', '--batch', '2', '--frames', '9', '--lr', '5e-4', '--warmup', '30', '--max-clips', '120', '--checkpoint-every', '50'],
      evalClips: 16,
      // Long speech, where chunk hands on to chunk: 8 held-out clips of 8 s and 3 of a minute.
      long: { count: 8, seconds: 8 },
      minute: { count: 3, seconds: 60 },
    };
// From scratch, a small DiT trains everything (no LoRA) plus the speech modules. SFT and DPO windows are
// 9 latent frames, the length of a generation chunk, so the DiT sees every frame position it samples.
const TRAIN_ALL = ['--train', 'all', '--targets', 'none'];

const P = {
  clipsTrain: path.join(run, 'clips-train'),
  clipsDpo: path.join(run, 'clips-dpo'),
  clipsHeld: path.join(run, 'clips-heldout'),
  clipsTest: path.join(run, 'clips-test'),
  vae: path.join(run, 'vae'),
  vaeLong: path.join(run, 'vae-long'),
  pkg: path.join(run, 'package'),
  dataset: path.join(run, 'dataset'),
  datasetDpo: path.join(run, 'dataset-dpo'),
  sft: path.join(run, 'sft'),
  sftMerged: path.join(run, 'sft-merged'),
  sftMore: path.join(run, 'sft-more'),
  dpo: path.join(run, 'dpo'),
  final: path.join(run, 'final'),
  sftAnchor: path.join(run, 'sft-anchor'),
  anchored: path.join(run, 'final-anchor'),
  decoder: path.join(run, 'decoder'),
  /** Both SFT cycles with the shipped decoder, sampled without the portrait anchor (the model before the anchor stage). */
  plain: path.join(run, 'shipped-no-anchor'),
  shipped: path.join(run, 'shipped'),
  clipsLong: path.join(run, 'clips-long'),
  clipsMinute: path.join(run, 'clips-minute'),
  evalDir: path.join(run, 'eval'),
  logs: path.join(run, 'logs'),
};

/** `refree train vae` when this build lists it, else the same handler run directly. */
async function vaeCommand(): Promise<{ shown: string[]; argv: string[] }> {
  const wired = (await readFile(path.join(root, 'engine', 'cli', 'train.ts'), 'utf8')).includes('trainVaeCommand');
  return wired ? { shown: ['refree', 'train', 'vae'], argv: [path.join(root, 'bin', 'refree.mjs'), 'train', 'vae'] } : { shown: ['node', '--import', 'tsx', 'engine/cli/train-vae.ts'], argv: ['--import', 'tsx', path.join(root, 'engine', 'cli', 'train-vae.ts')] };
}

const { step, cli } = stepRunner({ logs: P.logs, budgetS });

async function synth(name: string, dir: string, o: { count: number; seconds: number }, seed: number, split: 'train' | 'heldout'): Promise<void> {
  if ((await clipCount(dir)) >= o.count) return void process.stdout.write(`[${name}] done before (${o.count} clips in ${dir})\n`);
  await cli(name, ['synth', '--out', dir, '--count', String(o.count), '--seed', String(seed), '--split', split, '--seconds', String(o.seconds), '--size', '128']);
}

/** Seconds of training steps recorded in a run folder's metrics.jsonl, and its last step's loss. */
async function stageTime(dir: string): Promise<{ steps: number; minutes: number; lastLoss: number | null }> {
  const text = await readFile(path.join(dir, 'metrics.jsonl'), 'utf8').catch(() => '');
  const m = text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { step: number; seconds: number; loss: number });
  return { steps: m.length, minutes: +(m.reduce((a, x) => a + x.seconds, 0) / 60).toFixed(1), lastLoss: m.length ? m[m.length - 1]!.loss : null };
}

/** First seed of the test clips: after the held-out clips' 100000–100023. */
const TEST_SEED = 100024;
/** First seeds of the long held-out clips (8 s) and of the minute-long ones. */
const LONG_SEED = 100100;
const MINUTE_SEED = 100200;
const LONG_LABEL = { long: `${R.long.seconds}-s clips`, minute: `${R.minute.seconds}-s clips` } as const;

/** The card's rows of the shipped model and of the same model before the anchor stage. */
const SHIPPED_ROW = 'refree-mini (three SFT stages, shipped decoder, portrait anchor)';
const PLAIN_ROW = 'both SFT cycles, shipped decoder, no anchor';

const differenceLine = (label: string, d: MeasureDifferences): string =>
  `| ${label} | ${d.confidence.clips} | ${formatDifference(d.confidence)} (higher on ${d.confidence.wins}) | ${formatDifference(d.mouthR)} | ${formatDifference(d.psnr)} |`;

/** Test clips measured, by skin tone: through the VAE, before the anchor stage, shipped. */
type SkinCounts = Record<'vae' | 'plain' | 'shipped', Awaited<ReturnType<typeof measuredBySkinTone>>>;

const skinLine = (skin: SkinCounts, tone: 'darker' | 'lighter'): string =>
  `${skin.vae[tone].clips} ${tone === 'darker' ? `with darker skin (skin luma below ${DARKER_SKIN_LUMA} of 255)` : 'with lighter skin'}: ${skin.vae[tone].measured} through the VAE alone, ${skin.plain[tone].measured} before the anchor stage, ${skin.shipped[tone].measured} from the shipped model`;

/** The card's row of the ground truth through the shipped VAE. */
const VAE_ROW = 'ground truth through the VAE (shipped decoder)';

/** The model card: what it is, the data, the exact commands, the training time and every measured number. */
interface VaeInfo {
  train: { psnr: number; mouthPsnr: number };
  heldout: { psnr: number; mouthPsnr: number } | null;
}

const reconLine = (v: VaeInfo): string => `${v.train.psnr} dB (mouth ${v.train.mouthPsnr} dB) on training clips${v.heldout ? `, ${v.heldout.psnr} dB (mouth ${v.heldout.mouthPsnr} dB) on held-out clips` : ''}`;

/**
 * What a mouth correlation of 0.9 asks of the picture, from `npm run eval:limits` over this run's held-out
 * clips (only the rows that depend on the clips alone), beside this card's own VAE row; '' when not measured.
 */
async function limitsBullet(vaeRow: GroupStats | undefined): Promise<string> {
  const l = await readLimits(path.join(run, LIMITS_DIR));
  const r = (k: LimitKey): string => String(l?.[k]?.mouthR ?? '–');
  if (!l?.truth || !l.half || !l.quarter) return '';
  return `- A mouth that follows the truth at r 0.9. \`refree eval\` reads mouth r ${r('truth')} on the rendered truth itself,
  ${r('half')} at half the resolution, ${r('px48')} at 48 px, ${r('quarter')} at a quarter, and ${r('blended')} when each frame is blended
  with the one before; through this VAE it reads ${vaeRow?.mouthR ?? '–'}, about what a quarter-resolution picture keeps.
  r 0.9 needs about half-resolution detail in every frame: a latent several times larger than this
  VAE's and a DiT that fills it, beyond a 3-hour training on 2 CPU cores (\`npm run eval:limits\`;
  docs/TRAINING.md, "What the mouth measure can see").
`;
}

async function modelCard(spec: MiniSpec, vaeInfo: VaeInfo, decoderInfo: VaeInfo, groups: Record<string, GroupStats>, testGroups: Record<string, GroupStats>, longGroups: Record<string, GroupStats>, dpoVsSft: Record<'heldout' | 'test', MeasureDifferences>, anchorVsPlain: Record<'long' | 'test', MeasureDifferences>, silence: readonly SilenceRow[], skin: SkinCounts): Promise<string> {
  const quiet = silenceSummary(silence);
  const limits = await limitsBullet(groups[VAE_ROW]);
  const [vae1, vae2, sft1, sft2, sft3, dpo, dec] = [await stageTime(P.vae), await stageTime(P.vaeLong), await stageTime(P.sft), await stageTime(P.sftMore), await stageTime(P.sftAnchor), await stageTime(P.dpo), await stageTime(P.decoder)];
  const sft = { minutes: +(sft1.minutes + sft2.minutes + sft3.minutes).toFixed(1), lastLoss: sft3.lastLoss };
  const vae = { minutes: +(vae1.minutes + vae2.minutes).toFixed(1), steps: vae1.steps + vae2.steps };
  const total = +(vae.minutes + dec.minutes + sft.minutes + dpo.minutes).toFixed(0);
  const a = spec.architecture;
  const downs = a.vae.dimMult.length - 1;
  const space = a.vae.pixelPatch * 2 ** downs;
  const lat = spec.generation.size / space;
  const tokens = (lat / a.dit.patch[1]!) * (lat / a.dit.patch[2]!);
  return `# ${spec.name}

${spec.description}

It was trained entirely on this project's synthetic talking-face world (\`refree synth\`): drawn avatars
speaking formant-synthesised speech. **It animates avatars of that style; it does not animate photos or
real faces** — photoreal results need the Wan2.2-TI2V-5B package on an NVIDIA GPU. Generated at
${spec.generation.size}×${spec.generation.size} and written at ${spec.generation.outputSize ?? spec.generation.size}×${spec.generation.outputSize ?? spec.generation.size} (upscaled).

## Architecture

- VAE (Wan2.2 design, trained from scratch): z ${a.vae.zDim}, time stride 2, space ×${space} (${a.vae.pixelPatch}×${a.vae.pixelPatch} pixel patch, ${downs} down-sampling${downs === 1 ? '' : 's'}; ${lat}×${lat}×${a.vae.zDim} latents per latent frame at ${spec.generation.size} px), dims ${a.vae.encDim}·[${a.vae.dimMult.join(', ')}]; latent statistics folded into its first/last 1×1×1 convolutions.
- DiT: dim ${a.dit.dim}, ${a.dit.layers} blocks, ${a.dit.heads} heads, FFN ${a.dit.ffnDim}, patch ${a.dit.patch.join('×')} (${tokens} tokens per latent frame; the frames of a chunk attend to each other); a learned constant text context instead of T5.
- Speech: log-mel (${spec.speechFrontEnd.nMels} bands × ${spec.speechFrontEnd.context} sub-steps per frame), the multi-level encoder (kernels ${spec.refree.kernelSizes.join(', ')} video frames), a level selector and multi-head FiLM in every block.
- Sampling: ${spec.generation.steps} ${spec.generation.solver} steps, shift ${spec.generation.shift}, speech guidance ${spec.generation.guidance}${spec.generation.guidance === 1 ? '' : ' (a pass with the speech and one without it per step)'}, in chunks of ${spec.generation.chunkLatentFrames} latent frames, each after the first starting from the previous chunk's last latent frame and the portrait's (the portrait anchor, below); these settings were chosen on the held-out clips after training (docs/TRAINING.md, "Sampler settings").

## Data

400 training clips of 4 s (seeds 0–399, training identities, voices and words), 60 more for DPO (seeds
400–459), 24 held-out clips (seeds 100000–100023) whose faces, voices and sentences never appear in
training, and ${R.test.count} test clips made the same way (seeds ${TEST_SEED}–${TEST_SEED + R.test.count - 1}), measured only at the end:
the sampler settings and the decoder were chosen on the held-out clips, never on these. 15 fps, 16 kHz, 128×128.

## Recipe (\`npm run train:mini -- --install\` runs all of it and resumes where it stopped)

\`\`\`sh
refree synth --out clips-train --count ${R.train.count} --seconds ${R.train.seconds} --seed 0 --split train
refree synth --out clips-dpo --count ${R.dpoClips.count} --seconds ${R.dpoClips.seconds} --seed 400 --split train
refree synth --out clips-heldout --count ${R.heldout.count} --seconds ${R.heldout.seconds} --seed 100000 --split heldout
refree synth --out clips-test --count ${R.test.count} --seconds ${R.test.seconds} --seed ${TEST_SEED} --split heldout
refree train vae --clips clips-train --out vae --eval-clips clips-heldout ${R.vae.join(' ')}
refree train vae --clips clips-train --out vae-long --eval-clips clips-heldout --init vae/vae.safetensors ${R.vaeLong.join(' ')}
refree train vae --clips clips-train --out decoder --eval-clips clips-heldout --init vae-long/vae.safetensors ${R.decoder.join(' ')}
# base package: assets/models/refree-mini/spec.json + vae-long/vae.safetensors (scripts/train-mini.ts)
refree train prepare clips-train --model package --out dataset
refree train prepare clips-dpo --model package --out dataset-dpo
refree train sft --dataset dataset --model package --run sft ${TRAIN_ALL.join(' ')} ${R.sft.join(' ')}
refree models merge sft/adapter --out sft-merged --name ${spec.name}
refree train sft --dataset dataset --model sft-merged --run sft-more ${TRAIN_ALL.join(' ')} ${R.sftMore.join(' ')}
refree train dpo --dataset dataset-dpo --model sft-more/adapter --run dpo ${TRAIN_ALL.join(' ')} ${R.dpo.join(' ')}
refree models merge sft-more/adapter --out final --name ${spec.name}
refree train sft --dataset dataset --model final --run sft-anchor ${TRAIN_ALL.join(' ')} ${R.sftAnchor.join(' ')}
refree models merge sft-anchor/adapter --out final-anchor --name ${spec.name}
# shipped: final-anchor with decoder/vae.safetensors as its VAE (same encoder, so the same latent space),
# and the spec's sampler settings plus "portraitAnchor": true as generation.json (scripts/train-mini.ts)
\`\`\`

The shipped DiT is the SFT stage's: a first cosine cycle from scratch, merged, then a second one from
it at a third of the learning rate, then a short third one in which half of the windows are trained as
a later chunk that also sees the portrait (\`--anchor-share 0.5\`: frame 0 is the clip's first latent,
frame 1 the motion frame). The package samples every chunk after the first with the portrait as its
frame 0, so errors handed from chunk to chunk do not pile up into another face (Long speech, below). The DPO stage runs and is measured (tables below, like for like
with the same decoder), but on this synthetic world it does not beat SFT (the clip-by-clip differences
below), so it is not merged; docs/ABLATIONS.md has the DPO variants tried. The shipped decoder was trained again, alone, with the
encoder frozen and Gaussian noise (standard deviation up to ${DECODER_NOISE}, latents having std 1) added to the
latents: it draws cleaner frames from the DiT's slightly-off latents than the VAE's first decoder. Its loss
also weighs each face's edges against that face's own contrast (\`--detail ${DECODER_DETAIL}\`), so the eyes and lips
of darker faces count as much as those of lighter ones (What it cannot do, below).

Training time on 2 CPU cores shared with other work (sum of step times): VAE ${vae.minutes} min (${vae.steps} steps),
decoder ${dec.minutes} min (${dec.steps} steps), SFT ${sft.minutes} min (${sft1.steps} + ${sft2.steps} + ${sft3.steps} steps, final loss ${sft.lastLoss ?? '–'}),
DPO ${dpo.minutes} min (${dpo.steps} steps): ${total} min in all.

## Measured

VAE reconstruction PSNR (33-frame windows; 9-frame windows for the shipped decoder): ${reconLine(vaeInfo)} with
the VAE's first decoder; ${reconLine(decoderInfo)} with the shipped one.

On held-out clips (each clip's first frame as the portrait, its own held-out speech), measured by
\`refree eval --truth\` from the generated pixels — measured: the clips in which the face was found in at
least half of the frames (\`refree eval\` refuses the others: a correlation over a few frames means
nothing; a clip it refuses is a face soft enough to lose the face tracker); mouthR: correlation of the mouth opening with the truth;
offset: best lip-sync offset in frames; confidence: lip-sync confidence; PSNR/SSIM against the rendered
truth (whole clip and first frame); browR / headRollR: correlation with the true brow raise and head roll.
The first row is the ground-truth clips passed through the VAE alone (the ceiling of what the model can show).
Every row samples with the shipped settings (${spec.generation.steps} steps, speech guidance ${spec.generation.guidance}); the middle rows decode with the
VAE's first decoder, the last two with the shipped one (the model before the anchor stage, and the shipped model).

${statsTable(groups)}

The same on the ${R.test.count} test clips (no setting was chosen on them, so these numbers carry no selection):

${statsTable(testGroups)}

Faces the measures could read, by skin tone, of the test clips: ${skinLine(skin, 'darker')}; ${skinLine(skin, 'lighter')}.
The rendered truth itself is read on every clip of either tone, even at a quarter of its resolution; the
VAE loses the contrast of eyes and lips on darker skin, and the face tracker then loses the face. So the
means above are mostly over lighter faces (What it cannot do, below).

DPO against SFT clip by clip, on the clips both measured (the same decoder and sampler; Δ = after DPO
minus before, with a 95 % bootstrap interval; an interval that includes 0 is no finding):

| clips | measured in both | Δ lip-sync confidence | Δ mouthR | Δ PSNR (dB) |
|---|---|---|---|---|
${differenceLine('held-out', dpoVsSft.heldout)}
${differenceLine('test', dpoVsSft.test)}

## Long speech

A clip longer than one chunk (${spec.generation.chunkLatentFrames} latent frames, about ${(pixelFrameCount(a.vae, spec.generation.chunkLatentFrames) / spec.generation.fps).toFixed(1)} s) is made chunk after chunk, each
starting from the previous one's last latent frame; small errors handed on pile up over a minute into a
different, blotched face. The anchor stage and the portrait anchor keep the portrait in every chunk.
Held-out clips of ${R.long.seconds} s (${R.long.count}, seeds ${LONG_SEED}–${LONG_SEED + R.long.count - 1}) and of ${R.minute.seconds} s (${R.minute.count}, seeds ${MINUTE_SEED}–${MINUTE_SEED + R.minute.count - 1}), same measures:

${statsTable(longGroups)}

The shipped model against the same model before the anchor stage, clip by clip (Δ = shipped minus before):

| clips | measured in both | Δ lip-sync confidence | Δ mouthR | Δ PSNR (dB) |
|---|---|---|---|---|
${differenceLine(`${R.long.seconds}-s clips`, anchorVsPlain.long)}
${differenceLine('4-s test clips', anchorVsPlain.test)}

Silence: each of ${quiet.clips} held-out clips' speech (first ${Math.min(3, R.heldout.seconds)} s) with ${SILENCE_S} s of silence before and after it.
Mean inner-lip opening over the ${quiet.measured} clips measured (FaceMesh; about 0.3 wide open): ${quiet.silence ?? '–'} in the silent frames, ${quiet.speech ?? '–'} while speaking.
A shut mouth reads ${quiet.closedTruth ?? '–'} on the same scale in the rendered truth and ${quiet.closedRecon ?? '–'} through the VAE (the frames of these clips whose true mouth is shut; the measure sees the drawn lip line).

Speed at these settings: \`npm run bench -- generate\` measures 10 s and 60 s of speech (real-time factor and peak memory; docs/TRAINING.md, "Long speech: the portrait anchor", has the numbers on 2 cores).

## What it cannot do

- Sharp faces: the small VAE already blurs eyes and lips (its reconstructions are the first row above),
  and generated frames are softer still, with a faint mottled texture (the decoder trained on noisy
  latents reduces it; it does not remove it). A VAE with a finer latent
  (space ×4) was tried: it reconstructs sharper, but this DiT then leaves grain in every frame and syncs
  far worse (docs/TRAINING.md, "Why this size"). So was a decoder three times as wide: about as good
  with the generated latents, at four times the decoding cost (the same section).
${limits}${quiet.silence !== null && quiet.closedRecon !== null && quiet.silence <= quiet.closedRecon
    ? `- Lips as crisp as the drawing's: in silence the mouth reads as shut as the VAE draws a truly shut mouth
  (${quiet.silence} against ${quiet.closedRecon}), but above the rendered truth's ${quiet.closedTruth ?? '–'}: the small VAE blurs the lip line.`
    : '- Fully closed lips in silence: the mouth rests slightly open when nobody speaks (silence figure above).'}
- Darker skin as well as lighter: on darker-skinned avatars the small VAE flattens the eyes and lips
  (their contrast with the skin is small in absolute terms, which a plain pixel loss weighs
  little), so generated faces there are still often too soft to track (${skin.shipped.darker.measured} of ${skin.shipped.darker.clips} test clips measurable against
  ${skin.shipped.lighter.measured} of ${skin.shipped.lighter.clips}). The shipped decoder is trained with the detail weight (\`refree train vae --detail\`,
  which weighs each face's edges against its own contrast), which keeps more of these faces trackable than
  a plain pixel loss (docs/TRAINING.md, "Every skin tone"); the latent itself still loses the rest: a
  darker face's shut lip line is missing even from the VAE's own reconstruction, and neither training the
  encoder with the detail weight nor raising darker faces' weight in the DiT's loss
  (\`refree train sft --face-balance\`) brings it back (the same section).
- Photos, real faces, other drawing styles: it has only ever seen the synthetic avatars.
- Large head turns, hands, backgrounds with motion: the synthetic world has none.
- Speech unlike the synthetic voices may still move the mouth, but the sync is only measured on the synthetic world.
`;
}

/** Writes the spec's sampler settings into a package's generation.json when they differ. */
async function writeGeneration(dir: string, generation: MiniSpec['generation']): Promise<void> {
  const file = path.join(dir, GENERATION_DEFAULTS_FILE);
  const text = `${JSON.stringify(generation, null, 2)}\n`;
  if ((await readFile(file, 'utf8').catch(() => null)) === text) return;
  await writeFile(file, text);
  process.stdout.write(`[generation] ${file}: the spec's sampler settings (${generation.steps} steps, shift ${generation.shift}, speech guidance ${generation.guidance})\n`);
}

async function main(): Promise<void> {
  process.stdout.write(`refree-mini recipe${quick ? ' (quick smoke run)' : ''} in ${run}${Number.isFinite(budgetS) ? `, at most ${budgetS / 60} min per stage` : ''}\n`);
  await mkdir(run, { recursive: true });
  const spec = JSON.parse(await readFile(SPEC_FILE, 'utf8')) as MiniSpec;

  await synth('synth-train', P.clipsTrain, R.train, 0, 'train');
  await synth('synth-dpo', P.clipsDpo, R.dpoClips, 400, 'train');
  await synth('synth-heldout', P.clipsHeld, R.heldout, 100000, 'heldout');
  await synth('synth-test', P.clipsTest, R.test, TEST_SEED, 'heldout');
  await synth('synth-long', P.clipsLong, R.long, LONG_SEED, 'heldout');
  await synth('synth-minute', P.clipsMinute, R.minute, MINUTE_SEED, 'heldout');

  const v = await vaeCommand();
  for (const [name, dir, extra] of [
    ['vae', P.vae, R.vae],
    ['vae-long', P.vaeLong, ['--init', path.join(P.vae, 'vae.safetensors'), ...R.vaeLong]],
    ['decoder', P.decoder, ['--init', path.join(P.vaeLong, 'vae.safetensors'), ...R.decoder]],
  ] as const) {
    if (await exists(path.join(dir, 'vae.json'))) process.stdout.write(`[${name}] done before (${dir}/vae.json)\n`);
    else {
      const rest = ['--clips', P.clipsTrain, '--out', dir, '--eval-clips', P.clipsHeld, ...extra];
      await step(name, [...v.shown, ...rest], [...v.argv, ...rest]);
    }
  }
  const vaeInfo = JSON.parse(await readFile(path.join(P.vaeLong, 'vae.json'), 'utf8')) as VaeInfo;
  const decoderInfo = JSON.parse(await readFile(path.join(P.decoder, 'vae.json'), 'utf8')) as VaeInfo;
  process.stdout.write(`[vae] reconstruction PSNR ${vaeInfo.train.psnr} dB (mouth ${vaeInfo.train.mouthPsnr} dB) on training clips${vaeInfo.heldout ? `, ${vaeInfo.heldout.psnr} dB (mouth ${vaeInfo.heldout.mouthPsnr} dB) held out` : ''}\n`);

  process.stdout.write(`\n[package] the base package: spec ${path.relative(root, SPEC_FILE)} + ${P.vaeLong}/vae.safetensors → ${P.pkg}\n`);
  await writeMiniPackage(spec, path.join(P.vaeLong, 'vae.safetensors'), P.pkg, [`VAE trained by refree train vae (${P.vae}, then ${P.vaeLong})`]);

  if (!(await exists(path.join(P.dataset, 'dataset.json')))) await cli('prepare', ['train', 'prepare', P.clipsTrain, '--model', P.pkg, '--out', P.dataset]);
  else process.stdout.write(`[prepare] done before (${P.dataset})\n`);
  if (!(await exists(path.join(P.datasetDpo, 'dataset.json')))) await cli('prepare-dpo', ['train', 'prepare', P.clipsDpo, '--model', P.pkg, '--out', P.datasetDpo]);
  else process.stdout.write(`[prepare-dpo] done before (${P.datasetDpo})\n`);

  const adapterDone = async (dir: string): Promise<boolean> => exists(path.join(dir, 'adapter', 'refree.json'));
  if (!(await adapterDone(P.sft))) await cli('sft', ['train', 'sft', '--dataset', P.dataset, '--model', P.pkg, '--run', P.sft, ...TRAIN_ALL, ...R.sft]);
  else process.stdout.write(`[sft] done before (${P.sft}/adapter)\n`);
  if (!(await exists(path.join(P.sftMerged, 'refree.json')))) await cli('merge-sft', ['models', 'merge', path.join(P.sft, 'adapter'), '--out', P.sftMerged, '--name', spec.name]);
  else process.stdout.write(`[merge-sft] done before (${P.sftMerged})\n`);
  if (!(await adapterDone(P.sftMore))) await cli('sft-more', ['train', 'sft', '--dataset', P.dataset, '--model', P.sftMerged, '--run', P.sftMore, ...TRAIN_ALL, ...R.sftMore]);
  else process.stdout.write(`[sft-more] done before (${P.sftMore}/adapter)\n`);
  if (!(await adapterDone(P.dpo))) await cli('dpo', ['train', 'dpo', '--dataset', P.datasetDpo, '--model', path.join(P.sftMore, 'adapter'), '--run', P.dpo, ...TRAIN_ALL, ...R.dpo]);
  else process.stdout.write(`[dpo] done before (${P.dpo}/adapter)\n`);

  // The shipped model is the SFT stage: on this synthetic world the DPO stage costs several dB of PSNR
  // for no clear lip-sync gain (see the model card and docs/ABLATIONS.md), so it is trained and measured
  // beside it but not merged.
  if (!(await exists(path.join(P.final, 'refree.json')))) await cli('merge', ['models', 'merge', path.join(P.sftMore, 'adapter'), '--out', P.final, '--name', spec.name]);
  else process.stdout.write(`[merge] done before (${P.final})\n`);
  // The sampler settings are the spec's (chosen on held-out clips after training, docs/TRAINING.md), so
  // a change there reaches the shipped package without training again.
  await writeGeneration(P.final, spec.generation);
  if (!(await adapterDone(P.sftAnchor))) await cli('sft-anchor', ['train', 'sft', '--dataset', P.dataset, '--model', P.final, '--run', P.sftAnchor, ...TRAIN_ALL, ...R.sftAnchor]);
  else process.stdout.write(`[sft-anchor] done before (${P.sftAnchor}/adapter)\n`);
  if (!(await exists(path.join(P.anchored, 'refree.json')))) await cli('merge-anchor', ['models', 'merge', path.join(P.sftAnchor, 'adapter'), '--out', P.anchored, '--name', spec.name]);
  else process.stdout.write(`[merge-anchor] done before (${P.anchored})\n`);
  // Only the model trained for it samples with the portrait anchor.
  await writeGeneration(P.anchored, { ...spec.generation, portraitAnchor: true });
  // The shipped package: the anchor-trained SFT model with the decoder trained on noisy latents; beside
  // it, the same decoder on the model before the anchor stage, to measure what the stage does.
  const decoderNote = `decoder trained with noisy latents against the same encoder (${P.decoder})`;
  for (const [src, out] of [[P.anchored, P.shipped], [P.final, P.plain]] as const) {
    if (await writeWithDecoder(src, path.join(P.decoder, 'vae.safetensors'), out, decoderNote)) process.stdout.write(`[decoder] ${src} with ${P.decoder}/vae.safetensors → ${out}\n`);
    else process.stdout.write(`[decoder] done before (${out})\n`);
  }

  // Does the mouth survive the VAE alone? Its reconstructions measured like the generated videos.
  const held = { clipsDir: P.clipsHeld, clips: R.evalClips, runner: { step, cli } };
  // Every group samples as the shipped package does (the adapters carry the settings of their base).
  const sampler = { generate: ['--steps', String(spec.generation.steps), '--guidance', String(spec.generation.guidance), '--sampler', spec.generation.solver] };
  const vaeRows = await evaluateHeldOut({ ...held, name: 'eval-vae', model: [], outDir: path.join(P.evalDir, 'vae'), recon: { cfg: spec.architecture.vae, vaeFile: path.join(P.decoder, 'vae.safetensors') } });
  const sftRows = await evaluateHeldOut({ ...held, ...sampler, name: 'eval-sft', model: ['--model', path.join(P.sft, 'adapter')], outDir: path.join(P.evalDir, 'sft') });
  const dpoRows = await evaluateHeldOut({ ...held, ...sampler, name: 'eval-dpo', model: ['--model', path.join(P.dpo, 'adapter')], outDir: path.join(P.evalDir, 'dpo') });
  const finalRows = await evaluateHeldOut({ ...held, ...sampler, name: 'eval-final', model: ['--model', P.final], outDir: path.join(P.evalDir, 'final') });
  const plainRows = await evaluateHeldOut({ ...held, ...sampler, name: 'eval-no-anchor', model: ['--model', P.plain], outDir: path.join(P.evalDir, 'no-anchor') });
  const shippedRows = await evaluateHeldOut({ ...held, ...sampler, name: 'eval-shipped', model: ['--model', P.shipped], outDir: path.join(P.evalDir, 'shipped') });
  // The middle rows use the VAE's first decoder, so DPO and SFT compare like for like.
  const groups = {
    [VAE_ROW]: groupStats(vaeRows),
    'after the first SFT cycle': groupStats(sftRows),
    'after both SFT cycles + DPO': groupStats(dpoRows),
    'after both SFT cycles': groupStats(finalRows),
    [PLAIN_ROW]: groupStats(plainRows),
    [SHIPPED_ROW]: groupStats(shippedRows),
  };
  // The same groups on the test clips; DPO against SFT clip by clip (the same decoder, the same clips).
  const test = { clipsDir: P.clipsTest, clips: R.test.count, runner: { step, cli } };
  const testRows = {
    vae: await evaluateHeldOut({ ...test, name: 'test-vae', model: [], outDir: path.join(P.evalDir, 'test-vae'), recon: { cfg: spec.architecture.vae, vaeFile: path.join(P.decoder, 'vae.safetensors') } }),
    dpo: await evaluateHeldOut({ ...test, ...sampler, name: 'test-dpo', model: ['--model', path.join(P.dpo, 'adapter')], outDir: path.join(P.evalDir, 'test-dpo') }),
    final: await evaluateHeldOut({ ...test, ...sampler, name: 'test-final', model: ['--model', P.final], outDir: path.join(P.evalDir, 'test-final') }),
    plain: await evaluateHeldOut({ ...test, ...sampler, name: 'test-no-anchor', model: ['--model', P.plain], outDir: path.join(P.evalDir, 'test-no-anchor') }),
    shipped: await evaluateHeldOut({ ...test, ...sampler, name: 'test-shipped', model: ['--model', P.shipped], outDir: path.join(P.evalDir, 'test-shipped') }),
  };
  const testGroups = {
    [VAE_ROW]: groupStats(testRows.vae),
    'after both SFT cycles + DPO': groupStats(testRows.dpo),
    'after both SFT cycles': groupStats(testRows.final),
    [PLAIN_ROW]: groupStats(testRows.plain),
    [SHIPPED_ROW]: groupStats(testRows.shipped),
  };
  // Long speech: the same model before and after the anchor stage, with the same decoder.
  const long = (kind: 'long' | 'minute', which: 'plain' | 'shipped', clipsDir: string): Promise<EvalRow[]> =>
    evaluateHeldOut({ clipsDir, clips: R[kind].count, runner: { step, cli }, ...sampler, name: `${kind}-${which}`, model: ['--model', P[which]], outDir: path.join(P.evalDir, `${kind}-${which}`) });
  const longRows = {
    long: { plain: await long('long', 'plain', P.clipsLong), shipped: await long('long', 'shipped', P.clipsLong) },
    minute: { plain: await long('minute', 'plain', P.clipsMinute), shipped: await long('minute', 'shipped', P.clipsMinute) },
  };
  const longGroups: Record<string, GroupStats> = {};
  for (const kind of ['long', 'minute'] as const) {
    longGroups[`${LONG_LABEL[kind]}: ${PLAIN_ROW}`] = groupStats(longRows[kind].plain);
    longGroups[`${LONG_LABEL[kind]}: ${SHIPPED_ROW}`] = groupStats(longRows[kind].shipped);
  }
  // Which faces the measures could read, by skin tone (the means above are over those).
  const skin: SkinCounts = { vae: await measuredBySkinTone(testRows.vae, P.clipsTest), plain: await measuredBySkinTone(testRows.plain, P.clipsTest), shipped: await measuredBySkinTone(testRows.shipped, P.clipsTest) };
  const anchorVsPlain = { long: measureDifferences(longRows.long.shipped, longRows.long.plain), test: measureDifferences(testRows.shipped, testRows.plain) };
  const dpoVsSft = { heldout: measureDifferences(dpoRows, finalRows), test: measureDifferences(testRows.dpo, testRows.final) };
  const silence = await silenceCheck({ ...held, clips: Math.min(4, R.evalClips), speechSeconds: Math.min(3, R.heldout.seconds), name: 'silence-shipped', model: ['--model', P.shipped], outDir: path.join(P.evalDir, 'silence'), reconDir: path.join(P.evalDir, 'vae') });
  const summary = { run, quick, vae: vaeInfo, decoder: decoderInfo, groups, testGroups, longGroups, dpoVsSft, anchorVsPlain, skin, long: longRows, silence: { ...silenceSummary(silence), clips: silence }, vaeRecon: vaeRows, sft: sftRows, dpo: dpoRows, final: finalRows, shipped: shippedRows, test: testRows };
  await writeFile(path.join(run, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  process.stdout.write(`\n[eval] held-out clips (mouthR: mouth opening vs truth; offset in frames; confidence: lip-sync; PSNR/SSIM vs the rendered truth):\n${statsTable(groups)}\n[eval] test clips:\n${statsTable(testGroups)}\n[eval] long speech:\n${statsTable(longGroups)}\n${path.join(run, 'summary.json')}\n`);

  await writeFile(path.join(P.shipped, 'README.md'), await modelCard(spec, vaeInfo, decoderInfo, groups, testGroups, longGroups, dpoVsSft, anchorVsPlain, silence, skin));
  if (args.includes('--install') && !quick) {
    const dest = path.join(root, 'assets', 'models', 'refree-mini');
    // The old preview map and engine cache belong to the old weights.
    for (const f of [PREVIEW_FILE, 'engines']) await rm(path.join(dest, f), { recursive: true, force: true });
    for (const f of await readdir(P.shipped)) if (f !== 'engines') await cp(path.join(P.shipped, f), path.join(dest, f), { recursive: true });
    process.stdout.write(`[install] ${P.shipped} → ${dest}\n`);
  }
  process.stdout.write('refree-mini recipe finished\n');
}

main().catch(async (e: unknown) => {
  if (e instanceof Paused) {
    process.stdout.write(`\n${e.message}\n`);
    process.exitCode = 3;
    return;
  }
  process.stderr.write(`\ntrain-mini: ${(e as Error).message}\n`);
  process.exitCode = 1;
});
