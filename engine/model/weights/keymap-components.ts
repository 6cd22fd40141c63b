// Key maps for the Wan2.2 VAE and the umT5 encoder. The engine's canonical names are the official ones
// (Wan2.2_VAE.pth, models_t5_umt5-xxl-enc-bf16.pth; reference/wan2.2-ti2v-5b.md §2, §3). Downloads may
// name the same tensors differently:
//   - VAE: Diffusers AutoencoderKLWan names (Wan-AI/Wan2.2-TI2V-5B-Diffusers vae/). The rename below is
//     the one diffusers' scripts/convert_wan_to_diffusers.py `convert_vae_22` applies, run forwards
//     from each canonical name (so no name needs to be parsed back); values and shapes are unchanged.
//   - umT5: HF transformers UMT5EncoderModel names (-Diffusers text_encoder/, and ComfyUI's
//     umt5_xxl_*.safetensors). Wan's T5Encoder is the same network: the gated-GELU FFN's gate is wi_0,
//     fc1 is wi_1, fc2 is wo; each layer's relative_attention_bias is Wan's pos_embedding; no scaling
//     differs. The token embedding may be stored as `shared.weight`, `encoder.embed_tokens.weight` or both
//     (tied weights).
// Each function returns the source names to try for one canonical name, best first.

const RESIDUAL: Readonly<Record<string, string>> = {
  'residual.0.gamma': 'norm1.gamma',
  'residual.2.weight': 'conv1.weight',
  'residual.2.bias': 'conv1.bias',
  'residual.3.gamma': 'norm2.gamma',
  'residual.6.weight': 'conv2.weight',
  'residual.6.bias': 'conv2.bias',
  'shortcut.weight': 'conv_shortcut.weight',
  'shortcut.bias': 'conv_shortcut.bias',
};

const TOP: Readonly<Record<string, string>> = {
  'conv1.weight': 'quant_conv.weight',
  'conv1.bias': 'quant_conv.bias',
  'conv2.weight': 'post_quant_conv.weight',
  'conv2.bias': 'post_quant_conv.bias',
};

/** The Diffusers AutoencoderKLWan name of an official Wan2.2 VAE parameter, or null when it has none. */
export function wanVaeDiffusersName(name: string): string | null {
  if (TOP[name]) return TOP[name];
  let m = /^(encoder|decoder)\.conv1\.(weight|bias)$/.exec(name);
  if (m) return `${m[1]}.conv_in.${m[2]}`;
  m = /^(encoder|decoder)\.head\.(0\.gamma|2\.weight|2\.bias)$/.exec(name);
  if (m) return `${m[1]}.${m[2] === '0.gamma' ? 'norm_out.gamma' : `conv_out.${m[2]!.slice(2)}`}`;
  m = /^(encoder|decoder)\.middle\.([02])\.(.+)$/.exec(name);
  if (m) return RESIDUAL[m[3]!] ? `${m[1]}.mid_block.resnets.${m[2] === '0' ? 0 : 1}.${RESIDUAL[m[3]!]}` : null;
  m = /^(encoder|decoder)\.middle\.1\.(norm\.gamma|to_qkv\.weight|to_qkv\.bias|proj\.weight|proj\.bias)$/.exec(name);
  if (m) return `${m[1]}.mid_block.attentions.0.${m[2]}`;
  // encoder.downsamples.L.downsamples.J.* / decoder.upsamples.L.upsamples.J.*: residual blocks become
  // resnets.J; the resample (the last J) becomes downsampler / upsampler without an index.
  m = /^(encoder\.downsamples|decoder\.upsamples)\.(\d+)\.(?:downsamples|upsamples)\.(\d+)\.(.+)$/.exec(name);
  if (m) {
    const blocks = m[1] === 'encoder.downsamples' ? 'encoder.down_blocks' : 'decoder.up_blocks';
    const rest = m[4]!;
    if (RESIDUAL[rest]) return `${blocks}.${m[2]}.resnets.${m[3]}.${RESIDUAL[rest]}`;
    if (/^(resample\.1|time_conv)\.(weight|bias)$/.test(rest)) return `${blocks}.${m[2]}.${m[1] === 'encoder.downsamples' ? 'downsampler' : 'upsampler'}.${rest}`;
  }
  return null;
}

/** The HF transformers UMT5EncoderModel names of an official umT5 encoder parameter (best first), [] when none. */
export function wanT5HfNames(name: string): string[] {
  if (name === 'token_embedding.weight') return ['shared.weight', 'encoder.embed_tokens.weight'];
  if (name === 'norm.weight') return ['encoder.final_layer_norm.weight'];
  const m = /^blocks\.(\d+)\.(.+)$/.exec(name);
  if (!m) return [];
  const b = `encoder.block.${m[1]}.layer`;
  const rest = m[2]!;
  const map: Record<string, string> = {
    'norm1.weight': `${b}.0.layer_norm.weight`,
    'attn.q.weight': `${b}.0.SelfAttention.q.weight`,
    'attn.k.weight': `${b}.0.SelfAttention.k.weight`,
    'attn.v.weight': `${b}.0.SelfAttention.v.weight`,
    'attn.o.weight': `${b}.0.SelfAttention.o.weight`,
    'pos_embedding.embedding.weight': `${b}.0.SelfAttention.relative_attention_bias.weight`,
    'norm2.weight': `${b}.1.layer_norm.weight`,
    'ffn.gate.0.weight': `${b}.1.DenseReluDense.wi_0.weight`,
    'ffn.fc1.weight': `${b}.1.DenseReluDense.wi_1.weight`,
    'ffn.fc2.weight': `${b}.1.DenseReluDense.wo.weight`,
  };
  return map[rest] ? [map[rest]] : [];
}
