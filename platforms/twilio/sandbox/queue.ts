/**
 * Twilio's message queue, per sender: a sender sends `mps` segments per second (a US long code 1,
 * a short code 100), and messages created faster wait in its queue, which holds at most
 * `queueLimit` of them (Twilio: 10 hours' worth). Beyond that a message is refused at creation with
 * 21611 when sent `From` a number, or created and then failed with 30001 (queue overflow) when sent
 * through a Messaging Service, which queues on its own.
 */
export class SenderQueues {
  /** Per sender: when each queued message leaves the queue, in order. */
  private readonly queued = new Map<string, number[]>();

  constructor(
    private readonly mps: number,
    readonly queueLimit: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Messages waiting in `sender`'s queue now. */
  depth(sender: string): number {
    const t = this.now();
    const times = (this.queued.get(sender) ?? []).filter((at) => at > t);
    this.queued.set(sender, times);
    return times.length;
  }

  /**
   * Queues a message of `segments` segments: when it leaves the queue (is sent), or null when the
   * queue is full and it is not queued at all.
   */
  enqueue(sender: string, segments: number): number | null {
    if (this.depth(sender) >= this.queueLimit) return null;
    const times = this.queued.get(sender) ?? [];
    const t = this.now();
    const after = Math.max(t, times.at(-1) ?? t);
    const sentAt = after + Math.ceil((segments * 1000) / this.mps);
    times.push(sentAt);
    this.queued.set(sender, times);
    return sentAt;
  }
}
