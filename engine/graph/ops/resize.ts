// Placeholder: filled in by the resize op family.
export {};
