/**
 * What can happen to the world once it is generated is each platform's to say, in its sandbox
 * folder (`platforms/<name>/sandbox/changes.ts`): a contact moves along the lifecycle, a list member
 * subscribes, a customer places an order. Each change checks the transition against the current
 * state (a TransitionError when the platform would not make it), applies it in place and moves
 * `world.revision`, so every sandbox serves it from then on. The webhook emitter and
 * `POST /__sandbox/webhooks` change the world only through those: what the webhooks say and what
 * the sandboxes answer are one story.
 */

/** The change is not one the platform would make from the current state; nothing was changed. */
export class TransitionError extends Error {
  override readonly name = 'TransitionError';
}
