// T5 relative-position buckets (W22 t5.py `T5RelativeEmbedding._relative_position_bucket`, the same
// formula as HF transformers' T5/umT5). The bias added to the attention logits of query i and key j is
// embedding[bucket(j − i)], so the table depends only on the sequence length and is computed here, in
// JS, and emitted as a static int64 constant.
//
// Bidirectional form (the encoder's): half of the buckets are for keys after the query (j − i > 0),
// half for keys at or before it. Within a half, distances below maxExact = half/2 get one bucket each;
// larger ones share logarithmically wider buckets up to maxDistance, and everything beyond falls in
// the last bucket.

/** umT5 / T5 default; Wan's T5RelativeEmbedding uses max_dist=128. */
export const T5_MAX_DISTANCE = 128;

/**
 * The bucket of relative position `rel` = key index − query index.
 *
 * PyTorch evaluates the logarithmic branch in float32 (`rel_pos.float()`, a float32 log, a division by
 * the Python float log(maxDistance/maxExact), then `.long()`, which truncates). Math.fround reproduces
 * each float32 rounding so that a distance sitting exactly on a bucket edge (16, 32, 64 with 32
 * buckets) lands where PyTorch puts it; for the Wan (32, 128) and tiny configs float32 and float64
 * agree everywhere, which buckets.test.ts checks.
 */
export function relativePositionBucket(rel: number, numBuckets: number, maxDistance = T5_MAX_DISTANCE, bidirectional = true): number {
  if (!Number.isInteger(rel)) throw new RangeError(`relative position must be an integer, got ${rel}`);
  if (!Number.isInteger(numBuckets) || numBuckets < (bidirectional ? 4 : 2)) throw new RangeError(`numBuckets must be an integer ≥ ${bidirectional ? 4 : 2}, got ${numBuckets}`);
  let buckets = numBuckets;
  let base = 0;
  let n: number;
  if (bidirectional) {
    buckets = Math.floor(numBuckets / 2);
    base = rel > 0 ? buckets : 0;
    n = Math.abs(rel);
  } else {
    n = Math.max(-rel, 0);
  }
  const maxExact = Math.floor(buckets / 2);
  if (maxDistance <= maxExact) throw new RangeError(`maxDistance ${maxDistance} must exceed the exact range ${maxExact}`);
  if (n < maxExact) return base + n;
  const f = Math.fround;
  const logRatio = f(Math.log(f(n / maxExact)));
  const large = maxExact + Math.trunc(f(f(logRatio / f(Math.log(maxDistance / maxExact))) * (buckets - maxExact)));
  return base + Math.min(large, buckets - 1);
}

/** table[i·L + j] = bucket(j − i) for an L×L self-attention, row-major [L, L]. */
export function relativePositionBuckets(length: number, numBuckets: number, maxDistance = T5_MAX_DISTANCE, bidirectional = true): number[] {
  // Only 2L − 1 distinct relative positions: compute each once.
  const byRel = new Map<number, number>();
  for (let r = -(length - 1); r <= length - 1; r++) byRel.set(r, relativePositionBucket(r, numBuckets, maxDistance, bidirectional));
  const table = new Array<number>(length * length);
  for (let i = 0; i < length; i++) for (let j = 0; j < length; j++) table[i * length + j] = byRel.get(j - i)!;
  return table;
}
