import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/index.js';
import { execute, parse, validate, type DocumentNode, type GraphQLSchema } from 'graphql';
import { z } from 'zod';
import {
  AUTHOR_ID,
  IN_STOCK,
  PRODUCTS,
  REVIEWS,
  reviewsOfProduct,
  reviewsOfUser,
  shippingEstimate,
  TOP_PRODUCTS_DEFAULT,
  USERS,
  type Review,
} from './data.js';
import { BENCH_SUBGRAPHS, subgraphSdl, type BenchSubgraph } from './schemas.js';

/**
 * The four benchmark subgraphs in one HTTP server, one path each (`/accounts`, `/inventory`,
 * `/products`, `/reviews`), as the reference serves them from one process. Schemas are built by
 * @apollo/subgraph; requests are executed by graphql-js directly, with parsed and validated
 * documents cached, so the subgraphs stay cheap next to the gateway under test (the reference's are
 * Rust). Every response says `cache-control: max-age=60, public`, which a gateway with a response
 * cache may honour; the others ignore it.
 */

const resolvers: Record<BenchSubgraph, GraphQLResolverMap<unknown>> = {
  accounts: {
    Query: {
      me: () => USERS[0],
      user: (_: unknown, args: { id: string }) => USERS.find((u) => u.id === args.id) ?? null,
      users: () => USERS,
    },
    User: {
      __resolveReference: (ref: { id: string }) => USERS.find((u) => u.id === ref.id) ?? null,
    },
  },
  products: {
    Query: {
      topProducts: (_: unknown, args: { first?: number | null }) =>
        PRODUCTS.slice(0, args.first ?? TOP_PRODUCTS_DEFAULT),
    },
    Product: {
      __resolveReference: (ref: { upc: string }) => PRODUCTS.find((p) => p.upc === ref.upc) ?? null,
    },
  },
  inventory: {
    Product: {
      __resolveReference: (ref: { upc: string; price?: number | null; weight?: number | null }) =>
        ref.upc in IN_STOCK ? { ...ref, inStock: IN_STOCK[ref.upc] } : null,
      shippingEstimate: (product: { price?: number | null; weight?: number | null }) =>
        shippingEstimate(product.price, product.weight),
    },
  },
  reviews: {
    Review: {
      __resolveReference: (ref: { id: string }) => REVIEWS.find((r) => r.id === ref.id) ?? null,
      product: (review: Review) => ({ upc: review.productUpc }),
      // The reference's author: user 1, with the username it provides.
      author: () => ({ id: AUTHOR_ID, username: USERS.find((u) => u.id === AUTHOR_ID)?.username }),
    },
    User: {
      __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
      reviews: () => reviewsOfUser(),
    },
    Product: {
      __resolveReference: (ref: { upc: string }) => ({ upc: ref.upc }),
      reviews: (product: { upc: string }) => reviewsOfProduct(product.upc),
    },
  },
};

export function benchSubgraphSchema(name: BenchSubgraph): GraphQLSchema {
  return buildSubgraphSchema({ typeDefs: parse(subgraphSdl(name)), resolvers: resolvers[name] });
}

const requestBody = z.object({
  query: z.string().min(1),
  variables: z.record(z.string(), z.unknown()).nullish(),
  operationName: z.string().nullish(),
});

export interface BenchSubgraphsOptions {
  /**
   * Answer a request body seen before with the bytes sent then (the data never changes), so each
   * distinct subgraph fetch is executed once. @default true
   */
  memo?: boolean;
}

function send(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
    'cache-control': 'max-age=60, public',
  });
  res.end(body);
}

function readText(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Builds (does not start) the server of the four subgraphs. */
export function buildBenchSubgraphs(options: BenchSubgraphsOptions = {}): Server {
  const memo = options.memo ?? true;
  const schemas = new Map(BENCH_SUBGRAPHS.map((name) => [`/${name}`, benchSubgraphSchema(name)]));
  const documents = new Map<string, DocumentNode | string>();
  const answers = new Map<string, string>();

  const document = (schema: GraphQLSchema, path: string, query: string): DocumentNode | string => {
    const key = `${path}\n${query}`;
    let found = documents.get(key);
    if (found === undefined) {
      try {
        const parsed = parse(query);
        const errors = validate(schema, parsed);
        found = errors.length > 0 ? errors.map((e) => e.message).join('; ') : parsed;
      } catch (error) {
        found = (error as Error).message;
      }
      documents.set(key, found);
    }
    return found;
  };

  const answer = async (path: string, text: string): Promise<[number, string]> => {
    const schema = schemas.get(path);
    if (!schema) return [404, JSON.stringify({ errors: [{ message: `No subgraph at ${path}` }] })];
    let parsed;
    try {
      parsed = requestBody.safeParse(JSON.parse(text));
    } catch {
      return [400, JSON.stringify({ errors: [{ message: 'The body is not JSON.' }] })];
    }
    if (!parsed.success)
      return [400, JSON.stringify({ errors: [{ message: `Bad request: ${parsed.error.message}` }] })];
    const doc = document(schema, path, parsed.data.query);
    if (typeof doc === 'string') return [400, JSON.stringify({ errors: [{ message: doc }] })];
    const result = await execute({
      schema,
      document: doc,
      variableValues: parsed.data.variables ?? undefined,
      operationName: parsed.data.operationName ?? undefined,
      contextValue: {},
    });
    return [200, JSON.stringify(result)];
  };

  return createServer({ keepAlive: true }, (req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (req.method === 'GET' && path === '/health') {
      send(res, 200, '{"status":"ok"}');
      return;
    }
    if (req.method !== 'POST') {
      send(res, 405, JSON.stringify({ errors: [{ message: 'POST a GraphQL request.' }] }));
      return;
    }
    readText(req)
      .then(async (text) => {
        const key = `${path}\n${text}`;
        const remembered = memo ? answers.get(key) : undefined;
        if (remembered !== undefined) {
          send(res, 200, remembered);
          return;
        }
        const [status, body] = await answer(path, text);
        if (memo && status === 200 && answers.size < 10_000) answers.set(key, body);
        send(res, status, body);
      })
      .catch((error: unknown) => {
        send(res, 500, JSON.stringify({ errors: [{ message: (error as Error).message }] }));
      });
  });
}
