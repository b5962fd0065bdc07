import type { Logger } from '../lib/logger.js';
import type { NoticeSink } from './notices.js';
import { SerialRunner } from './serial-runner.js';
import type { DeliveryStore } from './store/types.js';

/**
 * Emits the notices the dispatcher stored (attempts exhausted, endpoint disabled) through the
 * sink, oldest first, and forgets them only once the sink took them: a notice survives a crash or
 * a sink that is down, and its dedupe key keeps a repeat from being stored twice.
 */
export class NoticeRelay {
  private readonly emitter = new SerialRunner(() => this.flush());
  private stopped = false;
  private retry: NodeJS.Timeout | undefined;

  constructor(
    private readonly options: {
      store: Pick<DeliveryStore, 'pendingNotices' | 'forgetNotices'>;
      sink: NoticeSink;
      logger: Logger;
      /** @default 5000 */
      retryMs?: number;
    },
  ) {}

  poke(): void {
    this.emitter.run();
  }

  stop(): void {
    this.stopped = true;
    this.emitter.stop();
    clearTimeout(this.retry);
  }

  private async flush(): Promise<void> {
    try {
      for (;;) {
        const notices = await this.options.store.pendingNotices(100);
        if (notices.length === 0 || this.stopped) return;
        await this.options.sink(notices.map((notice) => notice.event));
        await this.options.store.forgetNotices(notices.map((notice) => notice.id));
      }
    } catch (error) {
      this.options.logger.warn({ err: error }, 'emitting webhook delivery notices failed; retrying');
      this.retry = setTimeout(() => this.poke(), this.options.retryMs ?? 5_000);
      this.retry.unref();
    }
  }
}
