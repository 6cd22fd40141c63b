// Placeholder: filled in by the normalization op family.
export {};
