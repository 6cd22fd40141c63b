// Nothing lost to a bad input, through the service's boundary as both hosts call it: broken media are
// refused at import with the generator's own sentence and leave nothing behind; a failed import
// changes nothing; an upload never removes another import; an export cannot overwrite an input;
// relative paths and unknown projects are refused; file-system errors read as sentences.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { MediaError } from '../media/errors.js';
import { loadAudio } from '../media/audio-input.js';
import { loadImage } from '../media/image-input.js';
import { runFfmpeg } from '../media/ffmpeg-run.js';
import type { JobView, MediaInfo, Project, Settings } from './contract.js';
import { mediaSentence } from './media-validate.js';
import type { DispatchResult } from './service.js';
import { engineTempDir, StudioService } from './service.js';

let root = '';
let svc: StudioService;
let project: Project;
before(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'refree-safety-'));
  svc = await StudioService.create({ dataDir: path.join(root, 'data'), autoStart: false });
  project = value<Project>(await svc.dispatch('projects.create', { name: 'Safety' }));
});
after(async () => {
  await svc.close();
  await rm(root, { recursive: true, force: true });
});

function value<T>(r: DispatchResult): T {
  if (!r.ok) assert.fail(`expected success, got ${r.error.code}: ${r.error.message}`);
  return r.value as T;
}
function error(r: DispatchResult): { code: string; message: string } {
  if (r.ok) assert.fail(`expected an error, got ${JSON.stringify(r.value)}`);
  return r.error;
}
const sha = async (f: string): Promise<string> => createHash('sha256').update(await readFile(f)).digest('hex');
const mediaFolder = (): string => path.join(path.dirname(project.path), 'media');
const listMedia = async (): Promise<string[]> => (await readdir(mediaFolder()).catch(() => [] as string[])).sort();

/** A 16-bit mono PCM WAV of `seconds` of a tone; `dataBytes` overrides the stated data size. */
function wav(seconds: number, rate = 8000, dataBytes?: number): Buffer {
  const n = Math.round(seconds * rate);
  const b = Buffer.alloc(44 + n * 2);
  b.write('RIFF', 0);
  b.writeUInt32LE(36 + (dataBytes ?? n * 2), 4);
  b.write('WAVEfmt ', 8);
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(1, 20);
  b.writeUInt16LE(1, 22);
  b.writeUInt32LE(rate, 24);
  b.writeUInt32LE(rate * 2, 28);
  b.writeUInt16LE(2, 32);
  b.writeUInt16LE(16, 34);
  b.write('data', 36);
  b.writeUInt32LE(dataBytes ?? n * 2, 40);
  for (let i = 0; i < n; i++) b.writeInt16LE(Math.round(6000 * Math.sin((2 * Math.PI * 220 * i) / rate)), 44 + 2 * i);
  return b;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}
/** A PNG whose header claims width×height with a few bytes of pixel data (what a decompression bomb's header says). */
function pngHeaderOnly(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), pngChunk('IHDR', ihdr), pngChunk('IDAT', Buffer.from([0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01])), pngChunk('IEND', Buffer.alloc(0))]);
}

/** The sentence the CLI prints for `file` (the generator's readers), in the service's form. */
async function cliSentence(file: string, kind: 'image' | 'audio'): Promise<string> {
  try {
    if (kind === 'image') await loadImage(file);
    else await loadAudio(file);
  } catch (e) {
    if (e instanceof MediaError) return mediaSentence(e.message, file, file);
    throw e;
  }
  return assert.fail(`the CLI's reader accepted ${file}`);
}

test('broken and hostile media are refused at import with the CLI sentence, and nothing is copied', async () => {
  const dir = path.join(root, 'broken');
  await mkdir(dir, { recursive: true });
  const good = await sharp(randomBytes(64 * 64 * 3), { raw: { width: 64, height: 64, channels: 3 } }).png().toBuffer();
  const lying = Buffer.from(good);
  // The header says 640 pixels wide: the pixel data cannot fill it (the CRC is fixed so the header itself reads fine).
  lying.writeUInt32BE(640, 16);
  lying.writeUInt32BE(crc32(lying.subarray(12, 29)), 29);
  const cases: { name: string; bytes: Buffer; kind: 'image' | 'audio'; cli: boolean; re: RegExp }[] = [
    { name: 'notes.png', bytes: Buffer.from('just some text, not a picture\n'), kind: 'image', cli: true, re: /notes\.png is not an image/ },
    { name: 'truncated.png', bytes: good.subarray(0, Math.floor(good.length / 2)), kind: 'image', cli: true, re: /truncated\.png is not an image/ },
    { name: 'lying.png', bytes: lying, kind: 'image', cli: true, re: /lying\.png is not an image/ },
    { name: 'bomb.png', bytes: pngHeaderOnly(30000, 30000), kind: 'image', cli: true, re: /bomb\.png is 30000×30000 \(900 megapixels\), more than the limit of 500 megapixels/ },
    { name: 'empty.wav', bytes: Buffer.alloc(0), kind: 'audio', cli: false, re: /empty\.wav is empty \(0 bytes\)/ },
    { name: 'header-only.wav', bytes: wav(0), kind: 'audio', cli: false, re: /header-only\.wav contains no audio/ },
    { name: 'long.wav', bytes: wav(601), kind: 'audio', cli: true, re: /The speech from .*long\.wav is 601 s \(10 min\) long, more than the limit of 600 s \(10 min\)/ },
  ];
  const before = await listMedia();
  for (const c of cases) {
    const file = path.join(dir, c.name);
    await writeFile(file, c.bytes);
    const e = error(await svc.dispatch('media.import', { path: file, project: project.path, kind: c.kind }));
    assert.equal(e.code, 'bad-input', `${c.name}: ${e.message}`);
    assert.match(e.message, c.re, c.name);
    if (c.cli) assert.equal(e.message, await cliSentence(file, c.kind), `${c.name}: the same sentence as the CLI`);
    assert.deepEqual(await listMedia(), before, `${c.name}: nothing copied`);
  }
});

test('a failed import changes nothing: the portrait already there stays, byte for byte', async () => {
  const face = path.join(root, 'face.png');
  await sharp({ create: { width: 48, height: 48, channels: 3, background: { r: 180, g: 140, b: 120 } } }).png().toFile(face);
  const img = value<MediaInfo>(await svc.dispatch('media.import', { path: face, project: project.path, kind: 'image' }));
  project = value<Project>(await svc.dispatch('projects.save', { project: { ...project, portrait: { path: img.path, crop: null } } }));
  const snapshot = [await listMedia(), await sha(img.path), await readFile(project.path, 'utf8')];
  const bad = path.join(root, 'bad.png');
  await writeFile(bad, 'PNG? no');
  error(await svc.dispatch('media.import', { path: bad, project: project.path, kind: 'image' }));
  assert.deepEqual([await listMedia(), await sha(img.path), await readFile(project.path, 'utf8')], snapshot);
});

test('an upload with the same name and bytes as an earlier import lands on that copy and never removes it', async () => {
  const speech = path.join(root, 'speech.wav');
  await writeFile(speech, wav(0.6));
  const imported = value<MediaInfo>(await svc.dispatch('media.import', { path: speech, project: project.path, kind: 'audio' }));
  const hash = await sha(imported.path);
  const up = value<MediaInfo>(await svc.dispatch('media.upload', { name: 'speech.wav', kind: 'audio', dataBase64: (await readFile(speech)).toString('base64'), project: project.path }));
  assert.equal(up.path, imported.path);
  // A failing upload of the same name does not touch it either.
  error(await svc.dispatch('media.upload', { name: 'speech.wav', kind: 'audio', dataBase64: Buffer.from('garbage!').toString('base64'), project: project.path }));
  assert.equal(await sha(imported.path), hash);
  assert.deepEqual((await listMedia()).filter((f) => f.startsWith('.')), [], 'no temporary files left');
});

test('an export whose file is the project speech, portrait or an existing file is refused; the input is unchanged', async () => {
  const speech = path.join(root, 'speech2.wav');
  await writeFile(speech, wav(0.6));
  const aud = value<MediaInfo>(await svc.dispatch('media.import', { path: speech, project: project.path, kind: 'audio' }));
  const ready = value<Project>(await svc.dispatch('projects.save', { project: { ...project, audio: { path: aud.path, trim: null } } }));
  const before = await sha(aud.path);
  // Give the speech copy an .mp4 name through a link, as a person picking "speech.mp4" would.
  for (const out of [aud.path.replace(/\.wav$/, '.wav'), ready.portrait!.path]) {
    const e = error(await svc.dispatch('generate.export', { project: ready, output: out }));
    assert.match(e.message, /must end in \.mp4 or \.webm|is the same file as the (speech|portrait)/);
  }
  const asMp4 = path.join(path.dirname(aud.path), 'same.mp4');
  await (await import('node:fs/promises')).symlink(aud.path, asMp4);
  const same = error(await svc.dispatch('generate.export', { project: ready, output: asMp4 }));
  assert.match(same.message, /^The export file \(.*same\.mp4\) is the same file as the speech; writing it would destroy the input\./);
  const existing = path.join(root, 'already.mp4');
  await writeFile(existing, 'a video someone made');
  assert.match(error(await svc.dispatch('generate.export', { project: ready, output: existing })).message, /already exists; choose another file name/);
  assert.match(error(await svc.dispatch('generate.export', { project: ready, output: path.join(root, 'no-such-folder', 'x.mp4') })).message, /The export folder .*no-such-folder does not exist/);
  assert.equal(await sha(aud.path), before);
  assert.equal(value<JobView[]>(await svc.dispatch('jobs.list', {})).length, 0, 'nothing was queued');
  // A good one is queued with a title that names the project and the file.
  value(await svc.dispatch('generate.export', { project: ready, output: path.join(root, 'talk.mp4') }));
  assert.equal(value<JobView[]>(await svc.dispatch('jobs.list', {}))[0]!.title, 'Export · Safety → talk.mp4');
});

test('relative paths and unknown projects are refused; nothing is written outside', async () => {
  const rel = error(await svc.dispatch('media.import', { path: 'speech.wav', kind: 'audio' }));
  assert.equal(rel.code, 'bad-input');
  assert.match(rel.message, /Path: give the full path \(starting with \/ or a drive letter\); a relative path is not accepted/);
  assert.match(error(await svc.dispatch('projects.open', { path: 'projects/x' })).message, /relative path is not accepted/);
  const elsewhere = path.join(root, 'elsewhere');
  await mkdir(elsewhere);
  await writeFile(path.join(elsewhere, 'project.refree.json'), JSON.stringify({ ...project, path: path.join(elsewhere, 'project.refree.json') }));
  const face = path.join(root, 'face.png');
  const unknown = error(await svc.dispatch('media.import', { path: face, project: path.join(elsewhere, 'project.refree.json'), kind: 'image' }));
  assert.equal(unknown.code, 'not-found');
  assert.match(unknown.message, /is not a project the studio knows; open it first/);
  assert.deepEqual(await readdir(elsewhere), ['project.refree.json']);
  // Once opened, it is known.
  value(await svc.dispatch('projects.open', { path: elsewhere }));
  value(await svc.dispatch('media.import', { path: face, project: path.join(elsewhere, 'project.refree.json'), kind: 'image' }));
});

test('file-system errors read as sentences: a project onto a file, an output folder that is missing or a file', async () => {
  const file = path.join(root, 'a-file');
  await writeFile(file, 'x');
  const onto = error(await svc.dispatch('projects.create', { name: 'X', folder: file }));
  assert.equal(onto.code, 'bad-input');
  assert.match(onto.message, /a-file is a file, not a folder; choose a folder for the project\./);
  const under = error(await svc.dispatch('projects.create', { name: 'X', folder: path.join(file, 'sub') }));
  assert.match(under.message, /A part of .*a-file\/sub is a file where a folder was expected/);
  assert.doesNotMatch(under.message, /E[A-Z]{4,}/);
  assert.match(error(await svc.dispatch('settings.update', { outputFolder: path.join(root, 'missing') })).message, /The output folder .*missing does not exist; create it first/);
  assert.match(error(await svc.dispatch('settings.update', { outputFolder: file })).message, /a-file is a file, not a folder/);
  const ok = value<Settings>(await svc.dispatch('settings.update', { outputFolder: root }));
  assert.equal(ok.outputFolder, root);
  const steps = error(await svc.dispatch('projects.save', { project: { ...project, settings: { ...project.settings, steps: 0 } } }));
  assert.match(steps.message, /Steps: must be at least 1/);
  assert.doesNotMatch(steps.message, /project\.settings|Too small/);
});

test('projects: rename, duplicate (media copied, paths moved) and delete (to the trash)', async () => {
  const renamed = value<Project>(await svc.dispatch('projects.rename', { project: project.path, name: '  Talk two ' }));
  assert.equal(renamed.name, 'Talk two');
  const dup = value<Project>(await svc.dispatch('projects.duplicate', { project: project.path }));
  assert.equal(dup.name, 'Talk two (copy)');
  assert.notEqual(dup.path, renamed.path);
  assert.ok(dup.portrait && dup.portrait.path.startsWith(path.dirname(dup.path)), 'the copy uses its own media');
  assert.equal(await sha(dup.portrait.path), await sha(renamed.portrait!.path));
  const del = value<{ removed: string; trash: string }>(await svc.dispatch('projects.delete', { project: dup.path }));
  assert.ok((await readdir(del.trash)).includes('project.refree.json'), 'the folder is in the trash');
  const recent = value<{ path: string }[]>(await svc.dispatch('projects.recent', {}));
  assert.ok(!recent.some((r) => r.path === dup.path));
  assert.equal(error(await svc.dispatch('projects.rename', { project: dup.path, name: 'x' })).code, 'not-found');
});

test('projects.sample: a project with the shipped portrait (cropped around the face) and speech', async () => {
  const assets = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', 'assets');
  const s2 = await StudioService.create({ dataDir: path.join(root, 'data-sample'), assetsDir: assets, autoStart: false });
  try {
    const p = value<Project>(await s2.dispatch('projects.sample', {}));
    assert.equal(p.name, 'Sample talking head');
    assert.ok(p.portrait?.crop, 'the crop is the suggested face box');
    assert.ok(p.portrait.path.startsWith(path.dirname(p.path)) && p.audio!.path.startsWith(path.dirname(p.path)), 'the sample media are copied into the project');
    const withoutAssets = error(await svc.dispatch('projects.sample', {}));
    assert.match(withoutAssets.message, /sample portrait and speech are not installed/);
  } finally {
    await s2.close();
  }
});

test("a dead engine's temporary files are gone when the next engine starts", { timeout: 120_000 }, async () => {
  const d = path.join(root, 'data-engine');
  const s3 = await StudioService.create({ dataDir: d, autoStart: false });
  try {
    const leftover = path.join(engineTempDir(d), 'refree-speech-abc123');
    await mkdir(leftover, { recursive: true });
    await writeFile(path.join(leftover, 'speech.wav'), 'what a killed engine left');
    // device.info asks the engine, which starts it.
    value(await s3.dispatch('device.info', {}));
    // (The new engine may already have made its own files there; the dead one's are gone.)
    assert.ok(!(await readdir(engineTempDir(d)).catch(() => [] as string[])).includes('refree-speech-abc123'));
  } finally {
    await s3.close();
  }
});

test('a speech file cut short (a truncated MP4) is imported with a warning that says so', async () => {
  const full = path.join(root, 'talk-full.mp4');
  const r = await runFfmpeg(['-v', 'error', '-f', 'lavfi', '-i', 'sine=frequency=300:duration=6', '-c:a', 'aac', '-movflags', '+faststart', full]);
  assert.equal(r.code, 0, r.stderr);
  const cut = path.join(root, 'talk.mp4');
  const bytes = await readFile(full);
  await writeFile(cut, bytes.subarray(0, Math.floor(bytes.length / 2)));
  const m = value<MediaInfo>(await svc.dispatch('media.import', { path: cut, project: project.path, kind: 'audio' }));
  assert.ok(m.duration !== null && m.duration < 4, `the decodable length, not the stated one: ${m.duration}`);
  assert.match(m.warnings.join(' '), /talk\.mp4 ends early: only \d\.\d s of the 6\.0 s its header states could be decoded/);
});
