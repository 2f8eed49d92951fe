import i18next, { type i18n } from 'i18next';
import type { Request } from 'express';

export type ProblemLanguage = 'en' | 'ja';

const en = {
  'title.400': 'Bad Request',
  'title.401': 'Unauthorized',
  'title.403': 'Forbidden',
  'title.404': 'Not Found',
  'title.405': 'Method Not Allowed',
  'title.406': 'Not Acceptable',
  'title.409': 'Conflict',
  'title.410': 'Gone',
  'title.412': 'Precondition Failed',
  'title.413': 'Content Too Large',
  'title.415': 'Unsupported Media Type',
  'title.422': 'Unprocessable Content',
  'title.423': 'Locked',
  'title.428': 'Precondition Required',
  'title.429': 'Too Many Requests',
  'title.500': 'Internal Server Error',
  'title.503': 'Service Unavailable',
};

// Titles, a general detail per status, and the exact wording of the details clients see most.
const ja = {
  'title.400': '不正なリクエスト',
  'title.401': '認証が必要です',
  'title.403': 'アクセスが拒否されました',
  'title.404': '見つかりません',
  'title.405': '許可されていないメソッド',
  'title.406': '受理できない形式',
  'title.409': '競合',
  'title.410': '削除済み',
  'title.412': '前提条件を満たしていません',
  'title.413': 'リクエストが大きすぎます',
  'title.415': 'サポートされていないメディアタイプ',
  'title.422': '処理できない内容',
  'title.423': 'ロックされています',
  'title.428': '前提条件が必要です',
  'title.429': 'リクエストが多すぎます',
  'title.500': 'サーバー内部エラー',
  'title.503': 'サービス利用不可',
  'detail.400': 'リクエストの内容に誤りがあります。',
  'detail.401': '認証が必要です。ログインして有効なトークンを送ってください。',
  'detail.403': 'この操作を行う権限がありません。',
  'detail.404': '指定されたリソースは存在しません。',
  'detail.405': 'このパスではこのメソッドを使えません。Allow ヘッダーに示すメソッドを使ってください。',
  'detail.406': '要求された形式では応答できません。',
  'detail.409': '現在の状態と競合するため処理できません。',
  'detail.410': 'このリソースは削除されています。',
  'detail.412': '読み込んだ後に文書が変更されています。最新の ETag で再試行してください。',
  'detail.413': 'リクエストが大きすぎます。',
  'detail.415': 'このルートはこのメディアタイプの本文を受け付けません。',
  'detail.422': '内容を処理できません。',
  'detail.423': 'リソースはロックされています。',
  'detail.428': 'If-Match ヘッダーに最新の ETag を指定してください。',
  'detail.429': 'リクエストが多すぎます。Retry-After ヘッダーの秒数が経過してから再試行してください。',
  'detail.500': 'サーバーで処理を完了できませんでした。',
  'detail.503': 'サービスは一時的に利用できません。しばらくしてから再試行してください。',
  'The username or password is incorrect, or the account is temporarily locked.': 'ユーザー名またはパスワードが正しくないか、アカウントが一時的にロックされています。',
  'Authentication is required.': '認証が必要です。',
  'The request has invalid fields.': 'リクエストに不正な項目があります。',
  'The request body is not valid JSON.': 'リクエスト本文が正しい JSON ではありません。',
  'The request body is too large.': 'リクエスト本文が大きすぎます。',
  'No such route or resource.': '該当するルートまたはリソースはありません。',
  'The server could not complete the request.': 'サーバーで処理を完了できませんでした。',
  'The document has changed since you read it.': '読み込んだ後に文書が変更されています。',
  'If-Match must be "*" or quoted entity tags as sent in ETag, e.g. If-Match: "v3".': 'If-Match には "*" か、ETag と同じく引用符で囲んだエンティティタグを指定してください（例: If-Match: "v3"）。',
};

let instance: i18n | undefined;

function translator(): i18n {
  if (!instance) {
    instance = i18next.createInstance();
    // Keys are whole English sentences: no key or namespace separators.
    void instance.init({
      resources: { en: { translation: en }, ja: { translation: ja } },
      lng: 'en',
      fallbackLng: false,
      keySeparator: false,
      nsSeparator: false,
      initAsync: false,
      showSupportNotice: false,
      interpolation: { escapeValue: false },
    });
  }
  return instance;
}

/** The language the request prefers among those problems are written in (English unless it prefers Japanese). */
export function problemLanguage(req: Request): ProblemLanguage {
  const best = typeof req.acceptsLanguages === 'function' ? req.acceptsLanguages('en', 'ja') : false;
  return best === 'ja' ? 'ja' : 'en';
}

export function problemTitle(status: number, lng: ProblemLanguage, fallback: string): string {
  return translator().t(`title.${status}`, { lng, defaultValue: fallback });
}

/** Known details word for word; in Japanese, any other detail becomes the general one for its status. */
export function problemDetail(detail: string, status: number, lng: ProblemLanguage): string {
  if (lng === 'en') return detail;
  const t = translator();
  if (t.exists(detail, { lng })) return t.t(detail, { lng });
  return t.t(`detail.${status}`, { lng, defaultValue: detail });
}
