// The whole fine-tuning path as a user runs it (child processes of `refree`): synthetic clips → train
// prepare → train sft → train dpo → generate with the adapter; a run killed with SIGKILL and resumed ends
// with the parameters of an uninterrupted run; bad resumes are refused with a sentence and touch nothing.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, truncateSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tinyRandomPackage } from '../pipeline/testing/random-package.js';
import { SafetensorsFile } from '../model/weights/safetensors.js';
import { listCheckpoints, loadLatestCheckpoint, readMetrics, readRun } from './run-folder.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = path.join(ROOT, 'bin', 'refree.mjs');
let tmp = '';
let env: NodeJS.ProcessEnv = {};
let pkg = '';
const SFT = ['--steps', '12', '--batch', '2', '--frames', '5', '--rank', '4', '--lr', '0.001', '--warmup', '2', '--checkpoint-every', '4'];

function cli(args: string[], timeout = 240_000): { status: number | null; stdout: string; stderr: string; json: Record<string, unknown> } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, env, encoding: 'utf8', timeout });
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(r.stdout) as Record<string, unknown>;
  } catch {
    // not JSON: the assertion on status shows stderr
  }
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, json };
}

async function finalParams(run: string): Promise<Float32Array> {
  const list = await listCheckpoints(run);
  const st = await SafetensorsFile.open(list[list.length - 1]!.file);
  try {
    return Float32Array.from(await st.readF32('params'));
  } finally {
    await st.close();
  }
}

const sha = (f: string): string => createHash('sha256').update(readFileSync(f)).digest('hex');

before(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'refree-train-cli-'));
  env = { ...process.env, REFREE_CACHE_DIR: path.join(tmp, 'cache') };
  process.env.REFREE_CACHE_DIR = env.REFREE_CACHE_DIR;
  pkg = await tinyRandomPackage();
});
after(() => rmSync(tmp, { recursive: true, force: true }));

test('synth (20 clips) → train prepare → sft → dpo → generate with the adapter', async () => {
  const clips = path.join(tmp, 'clips');
  const ds = path.join(tmp, 'ds');
  let r = cli(['synth', '--out', clips, '--count', '20', '--seconds', '1.3', '--size', '128', '--json']);
  assert.equal(r.status, 0, r.stderr);
  r = cli(['train', 'prepare', clips, '--model', pkg, '--out', ds, '--json']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.json.accepted, 20, JSON.stringify(r.json).slice(0, 500));

  const sft = path.join(tmp, 'run-sft');
  r = cli(['train', 'sft', '--dataset', ds, '--model', pkg, '--run', sft, ...SFT, '--sample-every', '12', '--json']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.json.steps, 12);
  assert.ok(existsSync(path.join(sft, 'samples', 'step-0000012.mp4')), 'a sample video at step 12');
  const metrics = await readMetrics(sft);
  assert.deepEqual(
    metrics.map((m) => m.step),
    Array.from({ length: 12 }, (_, i) => i + 1),
  );
  // The regional loss goes down on these clips within a dozen steps.
  const first = (metrics[0]!.loss + metrics[1]!.loss) / 2;
  const last = (metrics[10]!.loss + metrics[11]!.loss) / 2;
  assert.ok(last < first, `SFT loss ${first} → ${last}`);
  assert.deepEqual(
    (await listCheckpoints(sft)).map((c) => c.step),
    [8, 12],
  );
  assert.ok(existsSync(path.join(sft, 'adapter', 'refree.json')));

  const dpo = path.join(tmp, 'run-dpo');
  r = cli(['train', 'dpo', '--dataset', ds, '--model', path.join(sft, 'adapter'), '--run', dpo, '--steps', '6', '--rank', '4', '--frames', '5', '--sample-steps', '3', '--checkpoint-every', '3', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const dm = await readMetrics(dpo);
  assert.equal(dm.length, 6);
  // Step 1: the policy IS the reference, so every pair has d_i = d_j and the loss is 6·log 2.
  assert.ok(Math.abs(dm[0]!.loss - 6 * Math.log(2)) < 1e-3, `first DPO loss ${dm[0]!.loss}`);
  assert.ok(dm.every((m) => m.accuracy !== undefined && m.policyErrGt !== undefined && m.refErrGt !== undefined));
  assert.equal(readdirSync(path.join(dpo, 'negatives')).filter((f) => f.endsWith('.safetensors')).length, 20);
  const run = await readRun(dpo);
  assert.equal(run!.init!.adapter, path.join(sft, 'adapter'));

  const video = path.join(tmp, 'tuned.mp4');
  r = cli(['generate', '--model', pkg, '--adapter', path.join(dpo, 'adapter'), '--portrait', path.join(ROOT, 'assets', 'demo', 'avatar.png'), '--audio', path.join(clips, 'synth-train-3.mp4'), '--out', video, '--json']);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(existsSync(video));
  assert.match(String((r.json.model as { name: string }).name), /-dpo$/);
  // An adapter used with another model is refused.
  r = cli(['generate', '--model', path.join(sft, 'adapter'), '--adapter', path.join(dpo, 'adapter'), '--portrait', path.join(ROOT, 'assets', 'demo', 'avatar.png'), '--audio', path.join(clips, 'synth-train-3.mp4'), '--out', path.join(tmp, 'x.mp4')]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /was trained on "tiny-random".*use it with the model it was trained on/);
  // And merged into a standalone package, it gives the same frames.
  const merged = path.join(tmp, 'merged');
  r = cli(['models', 'merge', path.join(dpo, 'adapter'), '--out', merged, '--name', 'my-voice', '--json']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal((JSON.parse(readFileSync(path.join(merged, 'refree.json'), 'utf8')) as { name: string }).name, 'my-voice', '--name names the merged package');
  const video2 = path.join(tmp, 'merged.mp4');
  r = cli(['generate', '--model', merged, '--portrait', path.join(ROOT, 'assets', 'demo', 'avatar.png'), '--audio', path.join(clips, 'synth-train-3.mp4'), '--out', video2, '--json']);
  assert.equal(r.status, 0, r.stderr);
});

test('an SFT run killed with SIGKILL and resumed ends with the same parameters as an uninterrupted one', async () => {
  const ds = path.join(tmp, 'ds');
  const a = path.join(tmp, 'run-a');
  const b = path.join(tmp, 'run-b');
  let r = cli(['train', 'sft', '--dataset', ds, '--model', pkg, '--run', a, ...SFT, '--json']);
  assert.equal(r.status, 0, r.stderr);
  // The same run, killed right after its step-8 checkpoint.
  const killedAt = await new Promise<number>((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'train', 'sft', '--dataset', ds, '--model', pkg, '--run', b, ...SFT, '--json'], { cwd: ROOT, env });
    let buf = '';
    let step = -1;
    child.stderr.on('data', (d: Buffer) => {
      buf += d.toString();
      for (const line of buf.split('\n').slice(0, -1)) {
        if (step < 0 && line.includes('"type":"checkpoint"') && (JSON.parse(line) as { step: number }).step === 8) {
          step = 8;
          child.kill('SIGKILL');
        }
      }
      buf = buf.slice(buf.lastIndexOf('\n') + 1);
    });
    child.on('exit', (_code, signal) => (signal === 'SIGKILL' ? resolve(step) : reject(new Error(`the run was not killed (exit ${_code})`))));
  });
  assert.equal(killedAt, 8);
  r = cli(['train', 'sft', '--dataset', ds, '--model', pkg, '--run', b, ...SFT, '--json']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.json.resumedFrom, 8);
  const pa = await finalParams(a);
  const pb = await finalParams(b);
  let maxRel = 0;
  const scale = Math.max(...pa.map(Math.abs));
  for (let i = 0; i < pa.length; i++) maxRel = Math.max(maxRel, Math.abs(pa[i]! - pb[i]!) / scale);
  assert.ok(maxRel <= 1e-6, `max relative difference ${maxRel}`);
  // The metrics of the resumed run have each step once.
  assert.deepEqual(
    (await readMetrics(b)).map((m) => m.step),
    Array.from({ length: 12 }, (_, i) => i + 1),
  );
});

test('bad resumes are refused with a sentence and nothing is overwritten', async () => {
  const ds = path.join(tmp, 'ds');
  const a = path.join(tmp, 'run-a');
  // Other settings.
  let r = cli(['train', 'sft', '--dataset', ds, '--model', pkg, '--run', a, ...SFT.map((x) => (x === '0.001' ? '0.002' : x))]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /holds a run with other settings \(lr was 0\.001, now 0\.002\): resume it with exactly the same options, or start a new run in another folder/);
  // A checkpoint from another model, and a damaged one (the newest is cut short): nothing is written.
  const list = await listCheckpoints(a);
  const newest = list[list.length - 1]!.file;
  const run = (await readRun(a))!;
  await assert.rejects(loadLatestCheckpoint(a, { stage: 'sft', settingsHash: run.settingsHash, layoutHash: run.layoutHash, baseHash: 'f'.repeat(64) }, run.trainable.parameters), /belongs to another model .*resume with the model it was trained from/);
  truncateSync(newest, 200);
  const before = sha(newest);
  r = cli(['train', 'sft', '--dataset', ds, '--model', pkg, '--run', a, ...SFT]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /the checkpoint .*step-0000012\.safetensors is damaged \(.*\): delete .*step-0000012\.safetensors to resume from the checkpoint before it/);
  assert.equal(sha(newest), before);
  // A dataset folder that is not a prepared dataset.
  r = cli(['train', 'sft', '--dataset', path.join(tmp, 'clips'), '--model', pkg, '--run', path.join(tmp, 'run-c'), ...SFT]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /dataset\.json does not exist: prepare the clips first/);
  assert.ok(!existsSync(path.join(tmp, 'run-c')));
});
