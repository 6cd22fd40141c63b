// Component entry points behind `refree run`: one DiT forward, VAE encode/decode, T5 prompt encoding,
// on host tensors exchanged as safetensors files (docs/RUN-COMPONENTS.md lists the tensor names).
export * from './common.js';
export * from './dit.js';
export * from './vae.js';
export * from './t5.js';
