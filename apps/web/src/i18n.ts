import i18n from 'i18next';
import { initReactI18next } from 'react-i18next';
import { setApiLanguage } from './api';
import { en } from './locales/en';
import { ja } from './locales/ja';

export const LANGUAGES = ['ja', 'en'] as const;
export type Language = (typeof LANGUAGES)[number];
const STORAGE_KEY = 'kura.language';

function initialLanguage(): Language {
  const stored = localStorage.getItem(STORAGE_KEY);
  if (stored === 'ja' || stored === 'en') return stored;
  // Japanese first: the product's users work in Japanese unless their browser says otherwise.
  return navigator.languages?.some((l) => l.toLowerCase().startsWith('ja')) || !navigator.language?.startsWith('en') ? 'ja' : 'en';
}

export function initI18n(): void {
  const lng = initialLanguage();
  void i18n.use(initReactI18next).init({
    resources: { ja: { translation: ja }, en: { translation: en } },
    lng,
    fallbackLng: 'en',
    interpolation: { escapeValue: false },
  });
  applyLanguage(lng);
}

function applyLanguage(lng: Language): void {
  document.documentElement.lang = lng;
  setApiLanguage(lng);
}

/** Switches the language and remembers it in this browser. */
export function changeLanguage(lng: Language): void {
  localStorage.setItem(STORAGE_KEY, lng);
  applyLanguage(lng);
  void i18n.changeLanguage(lng);
}

const CALENDAR_KEY = 'kura.calendar';

/** 和暦 (Japanese era years) for dates, optional and for Japanese only. */
export function usesJapaneseEra(): boolean {
  return localStorage.getItem(CALENDAR_KEY) === 'japanese';
}

export function setJapaneseEra(on: boolean): void {
  localStorage.setItem(CALENDAR_KEY, on ? 'japanese' : 'gregory');
  // Re-render every translated component with the new date format.
  void i18n.changeLanguage(i18n.language);
}

function locale(lng: string): string {
  if (lng !== 'ja') return 'en-GB';
  return usesJapaneseEra() ? 'ja-JP-u-ca-japanese' : 'ja-JP';
}

export function formatDateTime(iso: string | null | undefined, lng: string): string {
  if (!iso) return '—';
  return new Intl.DateTimeFormat(locale(lng), { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(iso));
}

export function formatDate(iso: string | null | undefined, lng: string): string {
  if (!iso) return '—';
  return new Intl.DateTimeFormat(locale(lng), { dateStyle: 'medium' }).format(new Date(iso));
}

export function formatBytes(n: number, lng: string): string {
  const units = ['B', 'KB', 'MB', 'GB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${new Intl.NumberFormat(lng === 'ja' ? 'ja-JP' : 'en-GB', { maximumFractionDigits: 1 }).format(v)} ${units[i]}`;
}
