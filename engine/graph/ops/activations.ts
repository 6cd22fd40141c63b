// Placeholder: filled in by the activations op family.
export {};
