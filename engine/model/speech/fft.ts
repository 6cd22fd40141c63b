// A mixed-radix complex FFT for the sizes speech front-ends use (n_fft 400 = 4·4·5·5, 512, ...), in
// plain TypeScript. Recursive decimation in time: X[k + q·m] = Σ_r W_n^{r(k+q·m)} · FFT_m(x[r::p])[k]
// for the smallest factor p of n, m = n/p. Cost n·Σ(factors), e.g. 7,200 complex multiply-adds for
// n = 400 instead of 160,000 for a direct DFT. Twiddles come from one table of the full size.
export class FFT {
  private readonly cos: Float64Array;
  private readonly sin: Float64Array;
  private readonly factors: number[];
  private readonly scratch: { re: Float64Array; im: Float64Array }[];

  constructor(readonly n: number) {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`FFT size must be a positive integer, got ${n}`);
    this.cos = new Float64Array(n);
    this.sin = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      this.cos[j] = Math.cos((2 * Math.PI * j) / n);
      this.sin[j] = -Math.sin((2 * Math.PI * j) / n);
    }
    this.factors = [];
    let rest = n;
    const take = (p: number): void => {
      while (rest % p === 0) {
        this.factors.push(p);
        rest /= p;
      }
    };
    [4, 2, 3, 5].forEach(take);
    for (let p = 7; rest > 1; p += 2) take(p);
    // One output buffer per recursion depth, sized for that depth's sub-transform.
    this.scratch = [];
    let size = n;
    for (const p of this.factors) {
      this.scratch.push({ re: new Float64Array(size), im: new Float64Array(size) });
      size /= p;
    }
  }

  /** In-place forward transform of (re, im), both of length n. */
  transform(re: Float64Array, im: Float64Array): void {
    if (re.length !== this.n || im.length !== this.n) throw new RangeError(`FFT of size ${this.n} got arrays of ${re.length} and ${im.length}`);
    const outRe = new Float64Array(this.n);
    const outIm = new Float64Array(this.n);
    this.rec(re, im, 0, 1, this.n, outRe, outIm, 0, 0);
    re.set(outRe);
    im.set(outIm);
  }

  /** Writes the DFT of x[off + j·stride], j < n, into out[outOff .. outOff + n). */
  private rec(re: Float64Array, im: Float64Array, off: number, stride: number, n: number, oRe: Float64Array, oIm: Float64Array, outOff: number, depth: number): void {
    if (n === 1) {
      oRe[outOff] = re[off]!;
      oIm[outOff] = im[off]!;
      return;
    }
    const p = this.factors[depth]!;
    const m = n / p;
    // Sub-transforms of the p decimated sequences, stored consecutively (r·m + k).
    const sub = this.scratch[depth]!;
    for (let r = 0; r < p; r++) this.rec(re, im, off + r * stride, stride * p, m, sub.re, sub.im, r * m, depth + 1);
    const step = this.n / n; // W_n^t = W_N^{t·N/n}
    for (let k = 0; k < m; k++) {
      for (let q = 0; q < p; q++) {
        const kk = k + q * m;
        let sr = 0;
        let si = 0;
        for (let r = 0; r < p; r++) {
          const t = (((r * kk) % n) * step) | 0;
          const wr = this.cos[t]!;
          const wi = this.sin[t]!;
          const yr = sub.re[r * m + k]!;
          const yi = sub.im[r * m + k]!;
          sr += wr * yr - wi * yi;
          si += wr * yi + wi * yr;
        }
        oRe[outOff + kk] = sr;
        oIm[outOff + kk] = si;
      }
    }
  }
}
