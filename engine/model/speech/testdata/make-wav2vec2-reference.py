# Regenerates w2v2-tiny/ (a random-weight wav2vec2 checkpoint in the Hugging Face layout) and
# w2v2-tiny-reference.json (the hidden states the OFFICIAL transformers implementation computes for it).
# transformers is not vendored here: it is imported from the environment, or from the source folder
# given as the optional second argument (a folder holding the `transformers` package).
#
# Usage (from the repository root):
#   python make-wav2vec2-reference.py OUT_DIR [TRANSFORMERS_SRC]
#   e.g. python engine/model/speech/testdata/make-wav2vec2-reference.py engine/model/speech/testdata
# Last run with transformers 5.18.0, torch 2.13.0+cpu, safetensors 0.8.0 (CPU, float32).
#
# The config is the wav2vec2-base layout (group-norm feature extractor with the real kernels and
# strides, post-LayerNorm encoder, convolutional positional embedding with weight norm, even kernel)
# at narrow widths. layer_norm_eps is deliberately not the default 1e-5, so a graph that used it where
# the official code uses a fixed eps (the GroupNorm) shows up. The model is a Wav2Vec2ForCTC, saved
# with save_pretrained, so the checkpoint has the `wav2vec2.` prefix, an lm_head and masked_spec_embed
# as the real facebook/wav2vec2-base-960h does.
import json, math, os, sys

if len(sys.argv) > 2:
    sys.path.insert(0, sys.argv[2])
import numpy as np
import torch
import transformers
from transformers import Wav2Vec2Config, Wav2Vec2ForCTC

torch.set_grad_enabled(False)
out_dir = sys.argv[1]

config = Wav2Vec2Config(
    vocab_size=8,
    hidden_size=32,
    num_hidden_layers=2,
    num_attention_heads=2,
    intermediate_size=64,
    hidden_act='gelu',
    feat_extract_norm='group',
    feat_extract_activation='gelu',
    conv_dim=[16, 16, 16, 16, 16, 16, 16],
    conv_kernel=[10, 3, 3, 3, 3, 2, 2],
    conv_stride=[5, 2, 2, 2, 2, 2, 2],
    conv_bias=False,
    num_conv_pos_embeddings=16,
    num_conv_pos_embedding_groups=4,
    do_stable_layer_norm=False,
    layer_norm_eps=1e-3,
    apply_spec_augment=False,
)
model = Wav2Vec2ForCTC(config)
model.eval()

# Seeded weights: normal with std 1/sqrt(fan-in) (norms around 1, so the states stay O(1)); LayerNorm
# and GroupNorm scales and the weight-norm magnitude g around 1.
gen = torch.Generator().manual_seed(1234)
for name, p in model.named_parameters():
    fan_in = p[0].numel() if p.dim() > 1 else 1
    w = torch.randn(p.shape, generator=gen, dtype=torch.float64) / math.sqrt(fan_in)
    if name.endswith('layer_norm.weight') or 'original0' in name or name.endswith('weight_g'):
        w = 1 + 0.2 * w
    p.copy_(w.to(torch.float32))

ckpt = os.path.join(out_dir, 'w2v2-tiny')
model.save_pretrained(ckpt, safe_serialization=True)

# 25 frames: frames = floor((samples - 400) / 320) + 1. A waveform the test rebuilds exactly:
# x[i] = fround((0.6 sin(0.0863 i) + 0.3 sin(0.5400 i)) * (0.6 + 0.4 sin(0.0011 i)))
samples = 400 + 24 * 320
i = np.arange(samples, dtype=np.float64)
x = ((0.6 * np.sin(0.0863 * i) + 0.3 * np.sin(0.54 * i)) * (0.6 + 0.4 * np.sin(0.0011 * i))).astype(np.float32)

# Reload from disk so the states come from exactly the saved checkpoint.
model = Wav2Vec2ForCTC.from_pretrained(ckpt, attn_implementation='eager').eval()
res = model(torch.from_numpy(x)[None], output_hidden_states=True)
states = [h[0].numpy() for h in res.hidden_states]

json.dump({
    'source': f'transformers {transformers.__version__} Wav2Vec2ForCTC (modeling_wav2vec2.py, eager attention), torch {torch.__version__}, float32 CPU',
    'regenerate': 'python engine/model/speech/testdata/make-wav2vec2-reference.py engine/model/speech/testdata',
    'checkpoint': 'w2v2-tiny/model.safetensors',
    'samples': samples,
    'input': 'fround((0.6 sin(0.0863 i) + 0.3 sin(0.54 i)) * (0.6 + 0.4 sin(0.0011 i))), i = 0..samples-1',
    'inputSum': float(x.astype(np.float64).sum()),
    'frames': int(states[0].shape[0]),
    'hiddenSize': int(states[0].shape[1]),
    # hiddenStates[k]: hidden_states[k] of the official output, [frames, hidden] row-major.
    'hiddenStates': [[float('%.8g' % v) for v in s.ravel()] for s in states],
}, open(os.path.join(out_dir, 'w2v2-tiny-reference.json'), 'w'))
print(f'wrote {ckpt}/ and w2v2-tiny-reference.json: {len(states)} hidden states of {states[0].shape}')
