// Test audio made by our own code, so tests need no speech synthesiser or sound tool on the system:
// 16-bit PCM WAV files, and a speech-like signal (voiced syllables at a speaking rate, with pauses,
// a moving pitch and some breath noise) that loudness and silence detection treat like speech.

/** A mono 16-bit PCM WAV file holding `samples` (clipped to [-1, 1]); zero samples give a valid empty file. */
export function pcm16Wav(samples: Float32Array, sampleRate: number): Buffer {
  const n = samples.length;
  const b = Buffer.alloc(44 + n * 2);
  b.write('RIFF', 0);
  b.writeUInt32LE(36 + n * 2, 4);
  b.write('WAVEfmt ', 8);
  b.writeUInt32LE(16, 16); // fmt chunk size
  b.writeUInt16LE(1, 20); // PCM
  b.writeUInt16LE(1, 22); // mono
  b.writeUInt32LE(sampleRate, 24);
  b.writeUInt32LE(sampleRate * 2, 28); // bytes per second
  b.writeUInt16LE(2, 32); // block align
  b.writeUInt16LE(16, 34); // bits per sample
  b.write('data', 36);
  b.writeUInt32LE(n * 2, 40);
  for (let i = 0; i < n; i++) b.writeInt16LE(Math.round(32767 * Math.max(-1, Math.min(1, samples[i]!))), 44 + 2 * i);
  return b;
}

/**
 * `seconds` of a speech-like signal at `sampleRate`: words of 2–4 syllables (about 4 syllables a
 * second) separated by 0.2–0.4 s pauses, each syllable a harmonic series on a 110–160 Hz pitch contour
 * shaped by two formant bumps, plus a little noise. Deterministic for a given seed.
 */
export function speechLike(seconds: number, sampleRate: number, seed = 1): Float32Array {
  const out = new Float32Array(Math.round(seconds * sampleRate));
  let s = seed >>> 0 || 1;
  const rand = (): number => {
    // xorshift32: reproducible without a dependency.
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
  let t = 0.15; // lead-in silence
  while (t < seconds - 0.3) {
    const syllables = 2 + Math.floor(rand() * 3);
    for (let k = 0; k < syllables && t < seconds - 0.3; k++) {
      const len = 0.16 + rand() * 0.12;
      const f0 = 110 + rand() * 50;
      const f1 = 300 + rand() * 500; // first formant
      const f2 = 900 + rand() * 1400; // second formant
      const start = Math.round(t * sampleRate);
      const end = Math.min(out.length, Math.round((t + len) * sampleRate));
      let phase = 0;
      for (let i = start; i < end; i++) {
        const u = (i - start) / (end - start);
        const env = Math.sin(Math.PI * u) ** 2;
        const pitch = f0 * (1 + 0.08 * Math.sin(Math.PI * u));
        phase += (2 * Math.PI * pitch) / sampleRate;
        let v = 0;
        for (let h = 1; h * pitch < Math.min(4000, sampleRate / 2); h++) {
          const f = h * pitch;
          const gain = Math.exp(-(((f - f1) / 250) ** 2)) + 0.5 * Math.exp(-(((f - f2) / 400) ** 2)) + 0.05 / h;
          v += gain * Math.sin(h * phase);
        }
        out[i] = 0.25 * env * v + 0.01 * env * (rand() * 2 - 1);
      }
      t += len + 0.02;
    }
    t += 0.2 + rand() * 0.2;
  }
  return out;
}
