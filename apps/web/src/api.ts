/**
 * The console's only way to the server: the public HTTP API under /api/v1. The session is
 * an HttpOnly cookie the browser attaches by itself; this code never sees the token. Unsafe
 * requests echo the CSRF cookie in X-CSRF-Token (double submit).
 */
export const API = '/api/v1';

export interface Problem {
  type?: string;
  title?: string;
  status: number;
  detail?: string;
  errors?: Array<{ field: string; messages: string[] }>;
  [extension: string]: unknown;
}

export class ApiError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail ?? problem.title ?? `HTTP ${problem.status}`);
  }
  get status(): number {
    return this.problem.status;
  }
}

let language = 'ja';
let onUnauthenticated: (() => void) | undefined;

export function setApiLanguage(lang: string): void {
  language = lang;
}

/** Called when the server says the session is gone (expired, revoked, logged out elsewhere). */
export function setUnauthenticatedHandler(fn: () => void): void {
  onUnauthenticated = fn;
}

function csrfToken(): string {
  const m = /(?:^|;\s*)kura_csrf=([^;]*)/.exec(document.cookie);
  return m ? decodeURIComponent(m[1]) : '';
}

export function baseHeaders(method: string): Record<string, string> {
  const headers: Record<string, string> = { 'Accept-Language': language };
  if (!['GET', 'HEAD'].includes(method)) headers['X-CSRF-Token'] = csrfToken();
  return headers;
}

async function toProblem(res: Response): Promise<Problem> {
  const text = await res.text().catch(() => '');
  try {
    const body = JSON.parse(text) as Problem;
    if (body && typeof body === 'object') return { ...body, status: res.status };
  } catch {
    // not JSON: fall through
  }
  return { status: res.status, title: res.statusText };
}

export interface RequestOptions {
  json?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export async function request(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
  const headers = { ...baseHeaders(method), ...options.headers };
  let body: BodyInit | undefined;
  if (options.json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(options.json);
  }
  const res = await fetch(`${API}${path}`, { method, headers, body, credentials: 'same-origin', signal: options.signal });
  if (!res.ok) {
    const problem = await toProblem(res);
    if (res.status === 401 && !path.startsWith('/auth/login')) onUnauthenticated?.();
    throw new ApiError(problem);
  }
  return res;
}

export async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  return (await request('GET', path, { signal })).json() as Promise<T>;
}

export async function sendJson<T>(method: string, path: string, json?: unknown, headers?: Record<string, string>): Promise<T> {
  const res = await request(method, path, { json: json ?? {}, headers });
  return (res.status === 204 ? undefined : await res.json()) as T;
}

export function query(params: Record<string, string | number | boolean | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

/** Multipart upload with progress (fetch cannot report upload progress; XHR can). */
export function upload(
  path: string,
  form: FormData,
  onProgress: (fraction: number) => void,
  headers: Record<string, string> = {},
): { promise: Promise<{ body: unknown; etag: string | null }>; abort: () => void } {
  const xhr = new XMLHttpRequest();
  const promise = new Promise<{ body: unknown; etag: string | null }>((resolve, reject) => {
    xhr.open('POST', `${API}${path}`);
    for (const [k, v] of Object.entries({ ...baseHeaders('POST'), ...headers })) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) onProgress(e.loaded / e.total);
    };
    xhr.onload = () => {
      let body: unknown = undefined;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        body = undefined;
      }
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(1);
        resolve({ body, etag: xhr.getResponseHeader('ETag') });
      } else {
        if (xhr.status === 401) onUnauthenticated?.();
        reject(new ApiError({ ...((body as Problem) ?? {}), status: xhr.status }));
      }
    };
    xhr.onerror = () => reject(new ApiError({ status: 0, title: 'Network error' }));
    xhr.onabort = () => reject(new ApiError({ status: 0, title: 'Aborted' }));
    xhr.send(form);
  });
  return { promise, abort: () => xhr.abort() };
}

/** Fetches a file (e.g. a certificate with an Accept header) and hands it to the browser as a download. */
export async function downloadVia(path: string, accept: string, filename: string, headers: Record<string, string> = {}): Promise<void> {
  const res = await request('GET', path, { headers: { Accept: accept, ...headers } });
  const blob = await res.blob();
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** A My Number purpose (利用目的): its code goes in `X-Purpose`, its names are for people. */
export interface Purpose {
  code: string;
  nameJa: string;
  nameEn: string;
  retired: boolean;
}

/** The header a read of a `specific` document must carry (docs/mynumber.md); empty when no purpose is named. */
export function purposeHeaders(purpose: string | null | undefined): Record<string, string> {
  return purpose ? { 'X-Purpose': purpose } : {};
}

/** The server refused because the purpose is missing (400 naming X-Purpose) or not permitted (403 with permittedPurposes). */
export function isPurposeRefusal(error: unknown): error is ApiError {
  if (!(error instanceof ApiError)) return false;
  if (error.status === 400) return (error.problem.errors ?? []).some((e) => e.field.toLowerCase() === 'x-purpose');
  return error.status === 403 && Array.isArray(error.problem.permittedPurposes);
}

export interface Me {
  id: string;
  username: string;
  displayName: string;
  roles: Array<'staff' | 'records_officer' | 'auditor' | 'admin'>;
  clearance: Classification;
  departments: string[];
  designations: string[];
  mustChangePassword: boolean;
}

export type Classification = 'PUBLIC' | 'INTERNAL' | 'CONFIDENTIAL' | 'SECRET';
export const CLASSIFICATIONS: Classification[] = ['PUBLIC', 'INTERNAL', 'CONFIDENTIAL', 'SECRET'];

export interface DocumentView {
  id: string;
  title: string;
  kind: string;
  classification: Classification;
  department: string;
  ownerId: string;
  tags: string[];
  personalData: string;
  seriesId: string | null;
  status: string;
  reviewDueAt: string | null;
  version: number;
  sha256: string;
  size: number;
  createdAt: string;
  updatedAt: string;
}

export interface Page<T> {
  items: T[];
  page: number;
  pageSize: number;
  total: number;
}
