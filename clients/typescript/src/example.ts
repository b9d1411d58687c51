// Sign in, then list the catalogue: the compiler checks paths, bodies and answers.
import { tesseraClient } from "./index";

export async function cheapestProducts(baseUrl: string, username: string, password: string) {
  const signIn = await tesseraClient(baseUrl).POST("/api/v1/auth/login", {
    body: { username, password },
  });
  if (!signIn.data || !("access_token" in signIn.data)) throw new Error(signIn.error?.code);
  const api = tesseraClient(baseUrl, signIn.data.access_token);
  const { data, error } = await api.GET("/api/v1/products", {
    params: { query: { sort: "price", size: 5 } },
  });
  if (error) throw new Error(`${error.code}: ${error.detail}`);
  return data.items.map((product) => `${product.sku} ${product.price} ${product.currency}`);
}
