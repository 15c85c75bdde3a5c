// The public API over fetch: JSON in and out, the bearer token, and errors in docs/API.md's shape.
import { t } from "./i18n.js";
import { session } from "./session.js";

export class ApiError extends Error {
  constructor(status, error) {
    super(error?.message || `HTTP ${status}`);
    this.status = status;
    this.code = error?.code || "http_error";
    this.details = error?.details || {};
  }
}

export async function api(method, path, body, { form } = {}) {
  const headers = { Accept: "application/json" };
  const token = session.token;
  if (token) headers.Authorization = `Bearer ${token}`;
  let payload;
  if (form) payload = form;                               // FormData: the browser sets the boundary
  else if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, { method, headers, body: payload });
  } catch (err) {
    throw new ApiError(0, { code: "network_error", message: t("common.networkError") });
  }
  const text = await response.text();
  const data = text && response.headers.get("Content-Type")?.includes("json") ? JSON.parse(text) : null;
  if (!response.ok) {
    if (response.status === 401 && token) session.expired();
    throw new ApiError(response.status, data?.error);
  }
  return data;
}

export const get = (path) => api("GET", path);
export const post = (path, body) => api("POST", path, body ?? {});
export const patch = (path, body) => api("PATCH", path, body);
export const del = (path, body) => api("DELETE", path, body);

/** Every item of a paginated list (docs/API.md "Lists"), page by page. */
export async function getAll(path, { size = 100, limit = 2000 } = {}) {
  const items = [];
  for (let page = 1; ; page += 1) {
    const sep = path.includes("?") ? "&" : "?";
    const data = await get(`${path}${sep}page=${page}&size=${size}`);
    items.push(...data.items);
    if (items.length >= data.total || data.items.length === 0 || items.length >= limit) return items;
  }
}
