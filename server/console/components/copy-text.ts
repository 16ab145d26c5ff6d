/** Copies text to the clipboard, which browsers offer on secure pages only (HTTPS or localhost). */
export async function copyText(text: string): Promise<void> {
  if (!navigator.clipboard) throw new Error('no clipboard');

  await navigator.clipboard.writeText(text);
}
