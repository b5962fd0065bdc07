import type { SandboxRequest, SandboxResponse } from '../../../sandboxes/kit/types.js';
import { graphError } from './errors.js';

const VERSION = /^v\d{1,2}\.\d$/;

/** The API version in the path (`v25.0`): a Graph error when it is not a version at all. */
export function checkVersion(request: SandboxRequest): SandboxResponse | undefined {
  const version = request.params['version'] ?? '';
  if (VERSION.test(version)) return undefined;
  return graphError(400, {
    message: `Unknown path components: /${version}`,
    type: 'OAuthException',
    code: 2500,
  });
}
