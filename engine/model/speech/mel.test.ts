import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FFT } from './fft.js';
import { DEFAULT_MEL, hzToMel, logMelSpectrogram, melBandEdges, melFilterbank, melToHz } from './mel.js';

test('mixed-radix FFT matches a direct DFT (n = 400, 12, 7, 512)', () => {
  for (const n of [400, 12, 7, 512]) {
    const re = Float64Array.from({ length: n }, (_, i) => Math.sin(0.3 * i) + 0.2 * Math.cos(1.7 * i * i));
    const im = Float64Array.from({ length: n }, (_, i) => 0.1 * Math.sin(0.05 * i * i));
    const [r0, i0] = [Float64Array.from(re), Float64Array.from(im)];
    new FFT(n).transform(re, im);
    let err = 0;
    for (let k = 0; k < n; k++) {
      let sr = 0;
      let si = 0;
      for (let j = 0; j < n; j++) {
        const a = (-2 * Math.PI * ((j * k) % n)) / n;
        sr += r0[j]! * Math.cos(a) - i0[j]! * Math.sin(a);
        si += r0[j]! * Math.sin(a) + i0[j]! * Math.cos(a);
      }
      err = Math.max(err, Math.abs(sr - re[k]!), Math.abs(si - im[k]!));
    }
    assert.ok(err < 1e-9, `n=${n}: max error ${err}`);
  }
});

test('Slaney mel scale: linear to 1 kHz (15 mels), logarithmic above, and invertible', () => {
  assert.ok(Math.abs(hzToMel(1000) - 15) < 1e-12);
  assert.ok(Math.abs(hzToMel(500) - 7.5) < 1e-12);
  assert.ok(Math.abs(hzToMel(6400) - 42) < 1e-9); // 27 mels per factor 6.4
  for (const f of [0, 123, 999, 1000, 4321, 8000]) {
    assert.ok(Math.abs(melToHz(hzToMel(f)) - f) < 1e-8);
    assert.ok(Math.abs(melToHz(hzToMel(f, 'htk'), 'htk') - f) < 1e-8);
  }
  // Slaney-normalised filters have area ≈ 1 in Hz (constant energy per band).
  const fb = melFilterbank(DEFAULT_MEL);
  const bins = DEFAULT_MEL.nFft / 2 + 1;
  const area = (b: number): number => fb.slice(b * bins, (b + 1) * bins).reduce((a, v) => a + v, 0) * (DEFAULT_MEL.sampleRate / DEFAULT_MEL.nFft);
  assert.ok(Math.abs(area(60) - 1) < 0.05, `band 60 area ${area(60)}`);
});

test('log-mel of a sine peaks in the mel band that contains the sine frequency', () => {
  const sr = 16000;
  const edges = melBandEdges(DEFAULT_MEL);
  for (const f of [440, 1000, 3100]) {
    const audio = Float32Array.from({ length: sr }, (_, i) => 0.5 * Math.sin((2 * Math.PI * f * i) / sr));
    const m = logMelSpectrogram(audio);
    assert.equal(m.frames, 1 + Math.floor(sr / 160));
    assert.equal(m.nMels, 80);
    const mean = new Float64Array(80);
    for (let t = 5; t < m.frames - 5; t++) for (let b = 0; b < 80; b++) mean[b]! += m.data[t * 80 + b]!;
    const peak = mean.indexOf(Math.max(...mean));
    assert.ok(edges[peak]! < f && f < edges[peak + 2]!, `${f} Hz: peak band ${peak} spans ${edges[peak]!.toFixed(0)}..${edges[peak + 2]!.toFixed(0)} Hz`);
    // It is the band whose centre is nearest the tone (no neighbour band centre is closer).
    const dist = (b: number): number => Math.abs(edges[b + 1]! - f);
    assert.ok(dist(peak) <= dist(peak - 1) && dist(peak) <= dist(peak + 1));
    // Far bands sit near the floor: (log10(1e-8) + 4)/4 = −1.
    const far = peak < 40 ? 79 : 0;
    assert.ok(mean[peak]! / (m.frames - 10) > 0.5 && mean[far]! / (m.frames - 10) < -0.5);
  }
  // Silence is exactly the floor.
  const quiet = logMelSpectrogram(new Float32Array(800));
  assert.ok(quiet.data.every((v) => Math.abs(v + 1) < 1e-6));
});
