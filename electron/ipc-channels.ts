// The IPC channel names between preload and main: the single source, so the two cannot disagree.
export const IPC = {
  rpc: 'refree:rpc',
  event: 'refree:event',
  openDialog: 'refree:open-dialog',
  saveDialog: 'refree:save-dialog',
  reveal: 'refree:reveal',
} as const;
