import type { EnvVar } from '../../lib/config/env.js';
import type { PlatformActions } from './actions.js';
import type { AnyPlatformContract } from './contract.js';
import type { WebhookHeaders } from '../../lib/webhooks/headers.js';
import type { Normaliser } from '../../lib/webhooks/normalise-result.js';
import type { VerifyResult } from '../../lib/webhooks/verify-result.js';
import type { DemoTraffic } from '../../sandboxes/kit/traffic.js';
import type { PlatformSandbox } from '../../sandboxes/kit/types.js';
import type { World } from '../../sandboxes/world/world.js';
import type { AnySyncDestination } from './sync.js';

/**
 * What the rest of the system knows about one platform, written once in `platforms/<name>/index.ts`
 * and read through `platforms/registry.ts`: nothing outside `platforms/` (but the role subgraphs)
 * names a platform. A fifth platform is a folder and a registry line: `client/`, `config.ts`,
 * `demo.ts` (its published demo credentials and webhook secret), `sandbox/` (built on the shared
 * world; `changes.ts` for what its events change, `sign.ts` and `traffic.ts` for the webhooks it
 * sends in the demo, signed apart from the verifier), `webhooks/` (verify, normalise) and this
 * descriptor, whose `sandbox.demoCredentials`, `credential.header` and `webhooks.demoTraffic` are
 * how the CLI, the logger and the demo emitter reach them.
 */

/** Configuration variables, as catalog entries: the catalog composes every descriptor's. */
export type ConfigEntries = Readonly<Record<string, EnvVar<unknown>>>;

/** A webhook request as a verifier sees it: the raw bytes it signed and where it was sent. */
export interface WebhookRequest {
  method: string;
  /** The URL the request reached (path and query as sent). */
  url: URL;
  rawBody: Buffer;
  headers: WebhookHeaders;
  /** The public URI the platform called (behind a proxy, not the one the gateway saw). */
  publicUri(): string;
}

/**
 * A source of signed webhooks, served at `/webhooks/<name>`. `S` is its secrets as configured
 * (a list of secrets, and for some sources a switch).
 */
export interface WebhookSource<N extends string = string, S = unknown> {
  name: N;
  /** Its secret variables and switches: catalog entries. */
  config: ConfigEntries;
  /** The variable named when a secret is refused (production, demo secret). */
  secretVariable: string;
  /** What the operator sets instead of the demo secret. */
  ownSecret: string;
  /** The secrets from the environment, `fallback` filling an unset variable; undefined: not served. */
  fromEnv(source: NodeJS.ProcessEnv, fallback: S | undefined): S | undefined;
  /** Every secret in `secrets` (registered so no log line can carry one). */
  secretsOf(secrets: S): readonly string[];
  /** The published demo secret the embedded demo signs with (refused in production). */
  demoSecret: string;
  /** The demo configuration: verifies what the demo emitter signs. */
  demo: S;
  verify(request: WebhookRequest, secrets: S): VerifyResult;
  normalise: Normaliser;
  /** The platform checks a URL with an unsigned GET before saving it (only the URL secret counts). */
  validatesWithGet?: boolean;
  /**
   * What the demo sends as this source (`<folder>/sandbox/traffic.ts`): the events a user can cause
   * on its sandbox and the kinds of live traffic the emitter draws. The sender's side, signed apart
   * from `verify` (a fake sharing code with what it tests proves nothing). Absent: the demo sends
   * nothing as this source. A function importing it on first use: the gateway reads this
   * descriptor and never sends demo traffic (issue 17, target 2).
   */
  demoTraffic?: () => Promise<DemoTraffic>;
}

/** What the data-flow document says of a webhook source, beside the numbers the code enforces. */
export interface WebhookFlow {
  source: string;
  /** Header(s) and construction of the signature. */
  signature: string;
  /** What is done against replays. */
  replay: string;
  /** The catalog variables holding the secrets, and any switches. */
  variables: readonly string[];
  /** Platform topics or types to subscribe to. */
  subscribe: string;
  /** What the source is, in a sentence: the `EventSource` value's description in the graph. */
  described: string;
  /**
   * The event types the normaliser turns them into, each with its description in the graph: `npm
   * run codegen` writes them into the canonical vocabulary (`lib/__generated__/vocabulary.ts`) and
   * the `EventType` enum of `schema/events.graphql`. Two sources may share a type (a second CRM),
   * with the same description.
   */
  becomes: Readonly<Record<string, string>>;
}

export interface Credential {
  /** The catalog variable holding the credential. */
  variable: string;
  /**
   * The request header the client sends it in (`authorization`, or the platform's own): the
   * logger's credential-header rule must cover it (test/lib/logger.test.ts checks every platform).
   */
  header: string;
  /** The least upstream OAuth scopes the credential needs, from the client. */
  scopes: readonly string[];
  /** Why these scopes and no more, or what replaces scopes on this platform. */
  leastPrivilege: string;
}

export interface LimitRow {
  /** The platform's published limit, in words. */
  published: string;
  /** How the client keeps to it. */
  throttle: string;
  /** Catalog variables that tune it. */
  variables: readonly string[];
}

/** Facts for the docs (`npm run docs`) that are not in the SDL. */
export interface PlatformDocs {
  /** The role it plays, in words (`CRM`). */
  role: string;
  /** The role subgraph that reads it. */
  subgraph: string;
  api: string;
  limits: readonly LimitRow[];
  webhook?: WebhookFlow;
}

/** Demo credentials, by name (`accessToken`, `listId`): published, accepted by the sandbox alone. */
export type DemoCredentials = Readonly<Record<string, string>>;

/**
 * A platform's sandbox, as `npm start` and `sandbox <name>` build it. `P` is the account plan, `D`
 * the demo credentials.
 */
export interface SandboxPart<P, C, D extends DemoCredentials = DemoCredentials> {
  /** The catalog variable of its port (its entry is in the descriptor's `config`). */
  portVariable: string;
  /**
   * The sandbox, accepting the demo credentials only, with the limits of plan `plan`. Async so its
   * code (`<folder>/sandbox/`) is imported on first use: a gateway never builds one (issue 17).
   */
  create(world: World, plan?: P): Promise<PlatformSandbox>;
  /** The base URL a client uses to reach a sandbox at `origin`: the real platform's shape. */
  baseUrl(origin: string): string;
  /** What the role subgraph's client needs to reach the sandbox at `origin`: the same plan, once. */
  connection(origin: string, plan?: P): C;
  /**
   * The published demo credentials (`<folder>/demo.ts`) the sandbox accepts and `connection` hands
   * the client: not secrets, refused by the real platform.
   */
  demoCredentials: D;
}

/**
 * One platform. `P` is the account plan whose limits differ by customer (both the sandbox and the
 * client are given the same one); `C` what a client needs to reach it (URL, credentials, plan).
 */
export interface PlatformDescriptor<
  N extends string = string,
  P = unknown,
  C = unknown,
  D extends DemoCredentials = DemoCredentials,
> {
  name: N;
  title: string;
  /** Its configuration variables (client, webhooks, sandbox): catalog entries. */
  config: ConfigEntries;
  credential: Credential;
  webhooks?: WebhookSource<N>;
  /** The platform as a sync destination (`<folder>/sync.ts`); absent: syncs cannot write to it. */
  sync?: AnySyncDestination;
  sandbox: SandboxPart<P, C, D>;
  /**
   * The writes routing rules can ask of it (`platforms/<name>/actions.ts`), run by the event
   * pipeline's action outbox through a client built from a connection `C`. Absent: none.
   */
  actions?: PlatformActions<C>;
  docs: PlatformDocs;
  /** How long the platform supports its API versions, for the health model's version warnings. */
  apiVersions?: ApiVersionPolicy;
  /**
   * Its client's contract (`platforms/<name>/contract.ts`), for the sandbox tests and
   * `npm run test:live`: loaded on demand, since nothing at run time reads it.
   */
  contract?: () => Promise<AnyPlatformContract>;
}

/** A platform's published API version support, as of this release of marketing-graph. */
export interface ApiVersionPolicy {
  /** The newest stable version the platform had published when this table was written. */
  latest: string;
  /** Where the platform states its policy. */
  policyUrl: string;
  /** The last day `version` is supported (ISO date); null when the platform names no end. */
  supportedUntil(version: string): string | null;
}

/**
 * Keeps a descriptor's literal name, its own plan, connection and demo credential types, its
 * configuration entries (the catalog's keys) and its webhooks' secrets: the registry derives the
 * catalog and the webhook sources' types from them. A platform without webhooks keeps `never`
 * there, so it is not counted a source.
 */
export function definePlatform<
  const N extends string,
  P,
  C,
  const K extends ConfigEntries,
  const D extends DemoCredentials,
  S = never,
>(
  descriptor: Omit<PlatformDescriptor<N, P, C, D>, 'webhooks' | 'config'> & {
    config: K;
    webhooks?: WebhookSource<N, S>;
  },
): PlatformDescriptor<N, P, C, D> & {
  config: K;
  webhooks?: [S] extends [never] ? never : WebhookSource<N, S>;
} {
  return descriptor as PlatformDescriptor<N, P, C, D> & {
    config: K;
    webhooks?: [S] extends [never] ? never : WebhookSource<N, S>;
  };
}

/** Keeps a webhook source's literal name and its secrets' type. */
export function defineWebhookSource<const N extends string, S>(
  source: WebhookSource<N, S>,
): WebhookSource<N, S> {
  return source;
}
