/**
 * `kiosk decode IMAGE...`: reads QR codes from image files the way the kiosk does, keeping the raw
 * bytes and the charset guessed, so a technician can see why a code reads as mojibake.
 */
import type { Command } from 'commander';
import type { CliContext } from './context.js';

/** Adds the `decode` command to the program. */
export function addDecodeCommand(program: Command, context: CliContext): void {
  program
    .command('decode')
    .description(
      'decode the QR code in each image; one JSON line per image (exit 0 if all decoded, else 1)',
    )
    .argument('<images...>', 'image files (PNG or JPEG)')
    .addHelpText(
      'after',
      '\nEach line is {"file","text","bytesHex","charset"} or {"file","error"}.',
    )
    .action(async (images: string[]) => {
      // Loaded here so the other commands do not pay for starting the decoder.
      const { decodeImageFile } = await import('../core/decode-image.js');
      let failures = 0;

      for (const file of images) {
        try {
          const { text, bytesHex, charset } = await decodeImageFile(file);
          context.io.out(JSON.stringify({ file, text, bytesHex, charset }));
        } catch (error) {
          failures += 1;
          context.io.out(
            JSON.stringify({ file, error: error instanceof Error ? error.message : String(error) }),
          );
        }
      }
      context.exitCode = failures === 0 ? 0 : 1;
    });
}
