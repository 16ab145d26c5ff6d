/**
 * Decides which codes in a camera frame are news. A pass held up to the camera is decoded on
 * every frame; the core wants to hear about it once. A code counts as gone once no frame has shown
 * it for `forgetAfterMs`, so the same pass shown again later is reported again, while a few
 * blurred frames in the middle of one showing are not mistaken for a second showing.
 */
export class SeenCodes {
  private readonly lastSeenAt = new Map<string, number>();

  constructor(private readonly forgetAfterMs = 1500) {}

  /** Records the codes in one frame taken at `now` (ms) and returns those not already in view. */
  observe(codes: readonly string[], now: number): string[] {
    this.forgetOlderThan(now - this.forgetAfterMs);

    const arrived = [...new Set(codes)].filter((code) => !this.lastSeenAt.has(code));
    for (const code of codes) this.lastSeenAt.set(code, now);

    return arrived;
  }

  /** Forgets every code, so whatever is in view next is reported again. */
  reset(): void {
    this.lastSeenAt.clear();
  }

  private forgetOlderThan(cutoff: number): void {
    for (const [code, seenAt] of this.lastSeenAt) {
      if (seenAt < cutoff) this.lastSeenAt.delete(code);
    }
  }
}
