// What the shop offers at checkout (orders' COURIERS setting; the API has no list of them).
export const COURIERS = ["sandbox"];
export const PAYMENT_METHODS = ["cash_on_delivery", "card"];
export const FINAL_STATUSES = ["delivered", "cancelled", "failed"];
export const CANCELLABLE = ["placed", "awaiting_payment", "paid"];
