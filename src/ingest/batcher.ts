/**
 * Group commit: messages from many connections wait together and are written in one
 * transaction; each caller's promise settles when the batch holding its message is
 * committed (or failed). One batch commits at a time while the next one fills.
 */
export class GroupCommitBatcher<T, R> {
  private pending: { item: T; resolve: (r: R) => void; reject: (e: unknown) => void }[] = [];
  private timer: NodeJS.Timeout | null = null;
  private committing: Promise<void> | null = null;
  private closed = false;

  constructor(
    private readonly commit: (items: T[]) => Promise<R>,
    private readonly options: { maxBatch: number; maxWaitMs: number },
  ) {}

  add(item: T): Promise<R> {
    if (this.closed) return Promise.reject(new Error('batcher is closed'));
    return new Promise<R>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (this.pending.length >= this.options.maxBatch) this.kick();
      else this.timer ??= setTimeout(() => this.kick(), this.options.maxWaitMs);
    });
  }

  private kick(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.committing || this.pending.length === 0) return;
    const batch = this.pending.splice(0, this.options.maxBatch);
    this.committing = this.commit(batch.map((b) => b.item))
      .then(
        (r) => batch.forEach((b) => b.resolve(r)),
        (e: unknown) => batch.forEach((b) => b.reject(e)),
      )
      .finally(() => {
        this.committing = null;
        if (this.pending.length >= this.options.maxBatch) this.kick();
        else if (this.pending.length) this.timer ??= setTimeout(() => this.kick(), this.options.maxWaitMs);
      });
  }

  /** Commits what is waiting and refuses more; resolves when all is written. */
  async flush(): Promise<void> {
    this.closed = true;
    while (this.pending.length || this.committing) {
      this.kick();
      await this.committing;
    }
  }
}
