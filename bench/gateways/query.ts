import { isDeepStrictEqual } from 'node:util';
import {
  AUTHOR_ID,
  IN_STOCK,
  PRODUCTS,
  reviewsOfProduct,
  reviewsOfUser,
  shippingEstimate,
  TOP_PRODUCTS_DEFAULT,
  USERS,
  type Product,
  type Review,
  type User,
} from './data.js';

/** The reference benchmark's deep query (k6.js in graphql-hive/graphql-gateways-benchmark). */
export const DEEP_QUERY = /* GraphQL */ `
  fragment User on User {
    id
    username
    name
  }

  fragment Review on Review {
    id
    body
  }

  fragment Product on Product {
    inStock
    name
    price
    shippingEstimate
    upc
    weight
  }

  query TestQuery {
    users {
      ...User
      reviews {
        ...Review
        product {
          ...Product
          reviews {
            ...Review
            author {
              ...User
              reviews {
                ...Review
                product {
                  ...Product
                }
              }
            }
          }
        }
      }
    }
    topProducts {
      ...Product
      reviews {
        ...Review
        author {
          ...User
          reviews {
            ...Review
            product {
              ...Product
            }
          }
        }
      }
    }
  }
`;

export const DEEP_QUERY_BODY = JSON.stringify({ query: DEEP_QUERY });

/**
 * The deep query once per connection, each copy told apart by a comment: the same operation and
 * answer, but no two connections ever send identical requests, so nothing can be shared between
 * requests in flight (Hive Gateway's inbound deduplication, our coalescing).
 */
export function distinctDeepQueryBodies(count: number): [string, ...string[]] {
  const bodies = Array.from({ length: count }, (_, i) =>
    JSON.stringify({ query: `# connection ${i + 1}\n${DEEP_QUERY}` }),
  );
  return [bodies[0] ?? DEEP_QUERY_BODY, ...bodies.slice(1)];
}

const userFields = (user: User) => ({ id: user.id, username: user.username, name: user.name });
const reviewFields = (review: Review) => ({ id: review.id, body: review.body });
const productFields = (product: Product) => ({
  inStock: IN_STOCK[product.upc] ?? null,
  name: product.name,
  price: product.price,
  shippingEstimate: shippingEstimate(product.price, product.weight),
  upc: product.upc,
  weight: product.weight,
});

function productOf(review: Review): Product {
  const product = PRODUCTS.find((p) => p.upc === review.productUpc);
  if (!product) throw new Error(`review ${review.id} names an unknown product`);
  return product;
}

function author(): User {
  const user = USERS.find((u) => u.id === AUTHOR_ID);
  if (!user) throw new Error('the author is not a user');
  return user;
}

/** author { ...User reviews { ...Review product { ...Product } } } */
const authorWithReviews = () => ({
  ...userFields(author()),
  reviews: reviewsOfUser().map((r) => ({ ...reviewFields(r), product: productFields(productOf(r)) })),
});

/**
 * The complete answer to DEEP_QUERY, built from the data rather than from any gateway's output: a
 * response counts only if it equals this, so a partial or wrong answer is an error.
 */
export function expectedDeepResponse() {
  return {
    data: {
      users: USERS.map((user) => ({
        ...userFields(user),
        reviews: reviewsOfUser().map((review) => ({
          ...reviewFields(review),
          product: {
            ...productFields(productOf(review)),
            reviews: reviewsOfProduct(review.productUpc).map((r) => ({
              ...reviewFields(r),
              author: authorWithReviews(),
            })),
          },
        })),
      })),
      topProducts: PRODUCTS.slice(0, TOP_PRODUCTS_DEFAULT).map((product) => ({
        ...productFields(product),
        reviews: reviewsOfProduct(product.upc).map((r) => ({
          ...reviewFields(r),
          author: authorWithReviews(),
        })),
      })),
    },
  };
}

/**
 * A check of a response body against the expected answer. The common case (the same bytes as the
 * expected JSON, give or take a trailing newline) costs one string comparison on the load
 * generator's CPU; anything else is parsed and compared as a value, so key order and whitespace do
 * not count against a gateway, and an extra `errors` or a missing field does.
 */
export function deepResponseCheck(): (body: string) => boolean {
  const expected = expectedDeepResponse();
  const text = JSON.stringify(expected);
  const seen = new Map<string, boolean>();
  return (body) => {
    const trimmed = body.trimEnd();
    if (trimmed === text) return true;
    const known = seen.get(trimmed);
    if (known !== undefined) return known;
    let ok = false;
    try {
      ok = isDeepStrictEqual(JSON.parse(trimmed), expected);
    } catch {
      ok = false;
    }
    if (seen.size < 100) seen.set(trimmed, ok);
    return ok;
  };
}
