# Step 2 of regenerating w22-tiny-reference.json: runs the OFFICIAL Wan2.2 VAE code (wan/modules/vae2_2.py
# from Wan-Video/Wan2.2, not vendored here) with the tiny config and the weights from dump-tiny-vae.ts,
# through its own chunked encode/decode, and records the results the TypeScript graphs must match.
# Usage: python make-w22-reference.py PATH/TO/vae2_2.py WEIGHTS_DIR > w22-tiny-reference.json
# Needs torch, einops, numpy (CPU is enough).
import importlib.util, json, sys
import numpy as np
import torch

spec = importlib.util.spec_from_file_location('vae2_2', sys.argv[1])
vae2_2 = importlib.util.module_from_spec(spec)
spec.loader.exec_module(vae2_2)
torch.set_grad_enabled(False)

wdir = sys.argv[2]
index = json.load(open(f'{wdir}/weights.json'))
raw = np.fromfile(f'{wdir}/weights.bin', dtype=np.float32)
# engine/model/config.ts TINY.vae
model = vae2_2.WanVAE_(dim=8, dec_dim=16, z_dim=8, dim_mult=[1, 2, 2, 2], num_res_blocks=1, attn_scales=[],
                       temperal_downsample=[False, True, True], dropout=0.0).eval()
state = {k: torch.from_numpy(raw[v['offset']:v['offset'] + int(np.prod(v['shape']))].reshape(v['shape']).copy()) for k, v in index.items()}
model.load_state_dict(state, strict=True)

T, H, W = 9, 32, 32
# pixels[i] = fround(sin(0.37 i) * 0.9) over the flattened [1, 3, T, H, W] array.
pixels = (np.sin(np.arange(3 * T * H * W, dtype=np.float64) * 0.37) * 0.9).astype(np.float32).reshape(1, 3, T, H, W)
mean = [-0.2289, -0.0052, -0.1323, -0.2339, -0.2799, 0.0174, 0.1838, 0.1557]
std = [0.4765, 1.0364, 0.4514, 1.1677, 0.5313, 0.4990, 0.4818, 0.5013]
scale = [torch.tensor(mean), 1.0 / torch.tensor(std)]

mu = model.encode(torch.from_numpy(pixels), scale)           # chunked: frame 0, then 4 per chunk
out = model.decode(mu, scale).clamp_(-1, 1).numpy().ravel()  # chunked: one latent frame per chunk
stride = 7
json.dump({
    'source': 'Wan-Video/Wan2.2 wan/modules/vae2_2.py (WanVAE_.encode/decode, chunked), commit 42bf4cfa',
    'seed': 7, 'frames': T, 'height': H, 'width': W,
    'pixels': 'fround(sin(0.37 i) * 0.9), i over the flattened [1, 3, T, H, W] array',
    'stats': {'mean': mean, 'std': std},
    'latentShape': list(mu.shape), 'latent': [float('%.8g' % v) for v in mu.numpy().ravel()],
    'pixelsShape': [1, 3, T, H, W], 'decodedStride': stride,
    'decodedSample': [float('%.8g' % v) for v in out[::stride]],
    'decodedSum': float(out.astype(np.float64).sum()), 'decodedAbsSum': float(np.abs(out.astype(np.float64)).sum()),
}, sys.stdout)
