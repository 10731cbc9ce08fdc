// The cart through the orders API. Anonymous, it is the cookie cart_id that the API sets
// (policy 1.10); signed in, it is the customer's (the API merges the cookie's into it).
import { api } from "./api.js";
import { accessToken } from "./auth.js";

export async function readCart() {
  return api("/api/orders/cart", { auth: true });
}

/** The number of units, shown in the header. */
export function unitCount(cart) {
  return (cart.items || []).reduce((sum, item) => sum + item.quantity, 0);
}

/**
 * Add units; false (and the cookies page) when the browser keeps no cookies: the API's
 * cart cookie never came back, so the cart would forget everything (policy 5.5).
 */
export async function addToCart(productId, quantity) {
  const signedIn = Boolean(await accessToken());
  if (!signedIn && !navigator.cookieEnabled) {
    location.assign("/cookies");
    return null;
  }
  await api("/api/orders/cart/items", {
    method: "POST",
    body: { product_id: productId, quantity },
    auth: true,
  });
  const cart = await readCart();
  if (!(cart.items || []).some((item) => item.product_id === productId)) {
    location.assign("/cookies");
    return null;
  }
  document.dispatchEvent(new CustomEvent("shop:cart", { detail: cart }));
  return cart;
}

export async function removeFromCart(productId) {
  await api(`/api/orders/cart/items/${encodeURIComponent(productId)}`, {
    method: "DELETE",
    auth: true,
  });
  const cart = await readCart();
  document.dispatchEvent(new CustomEvent("shop:cart", { detail: cart }));
  return cart;
}
