/** @file The run store's analysis queue: runs are analyzed one at a time (the machine may be small), requested
 * and watched runs first; each queued run has one job that settles when its analysis is done, however often it was
 * asked for meanwhile. */

export class AnalysisQueue {
  private order: string[] = [];
  private readonly queued = new Set<string>();
  private readonly jobs = new Map<string, { done: Promise<void>; resolve: () => void }>();
  private working = false;
  private closed = false;

  /** `work(id)` analyzes one run; it must not throw (failures are part of the run's state). */
  constructor(private readonly work: (id: string) => Promise<void>) {}

  /** Queues a run (urgent: at the front, also when already queued) unless it is queued already. */
  enqueue(id: string, urgent: boolean): void {
    if (!this.jobs.has(id)) {
      let resolve = () => {};
      const done = new Promise<void>((r) => {
        resolve = r;
      });
      this.jobs.set(id, { done, resolve });
    }
    if (this.queued.has(id)) {
      if (urgent) this.order = [id, ...this.order.filter((x) => x !== id)];
    } else {
      this.queued.add(id);
      if (urgent) this.order.unshift(id);
      else this.order.push(id);
    }
    void this.pump();
  }

  /** The run's job (queued or running), settled when its analysis is done; null when none is pending. */
  job(id: string): Promise<void> | null {
    return this.jobs.get(id)?.done ?? null;
  }

  private async pump(): Promise<void> {
    if (this.working) return;
    this.working = true;
    try {
      while (this.order.length > 0 && !this.closed) {
        const id = this.order.shift()!;
        this.queued.delete(id);
        await this.work(id);
        const job = this.jobs.get(id);
        this.jobs.delete(id);
        job?.resolve();
      }
    } finally {
      this.working = false;
    }
  }

  /** Resolves once no analysis is queued or running. */
  async idle(): Promise<void> {
    while (this.working || this.order.length > 0) {
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** No further analysis starts (the one running finishes). */
  close(): void {
    this.closed = true;
  }
}
