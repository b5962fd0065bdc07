import { z } from 'zod';
import { ACTION_KINDS, actionKind, type PlatformName } from '../../platforms/registry.js';

/**
 * A routing rule's action, as written in the rules file: the platform, the kind of action, and its
 * parameters beside them (`{ platform: mailchimp, type: add-tags, tags: [VIP] }`). The parameters
 * are checked with the kind's own schema from the registry, so a wrong field is named where it is
 * (`rules[2] (name "...").actions.0.tags: ...`), and the action is kept in one shape whatever the
 * platform.
 */
export interface RuleAction {
  platform: PlatformName;
  type: string;
  params: Record<string, unknown>;
}

const kindsList = () => ACTION_KINDS.map((kind) => `${kind.platform}/${kind.type}`).join(', ');

export const ruleActionSchema = z
  .looseObject({ platform: z.string().min(1), type: z.string().min(1) })
  .transform((value, ctx): RuleAction => {
    const { platform, type, ...rest } = value;
    const kind = actionKind(platform, type);
    if (!kind) {
      const known = ACTION_KINDS.some((k) => k.platform === platform);
      ctx.addIssue({
        code: 'custom',
        path: [known ? 'type' : 'platform'],
        message: `no action ${platform}/${type}; expected one of ${kindsList()}`,
      });
      return z.NEVER;
    }
    const parsed = kind.params.safeParse(rest);
    if (!parsed.success) {
      for (const issue of parsed.error.issues)
        ctx.addIssue({ code: 'custom', path: issue.path as PropertyKey[], message: issue.message });
      return z.NEVER;
    }
    return { platform: kind.platform, type: kind.type, params: parsed.data as Record<string, unknown> };
  });
