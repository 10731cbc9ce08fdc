import { tOr } from "./i18n.js";

export const statusText = (status) => tOr(`status.${status}`, status);
