import { readFile } from 'node:fs/promises';
import * as path from 'node:path';

/** Noto Sans JP (SIL OFL), shipped by an npm package: Japanese labels on PDFs need an embedded font. */
export function japaneseFontPath(): string {
  const pkg = path.dirname(require.resolve('@expo-google-fonts/noto-sans-jp/package.json'));
  return path.join(pkg, '400Regular', 'NotoSansJP_400Regular.ttf');
}

let japaneseFontBytes: Promise<Buffer> | undefined;

/** The font's bytes, read once per process and shared by the PDF renderers (about 5 MB). */
export function japaneseFont(): Promise<Buffer> {
  japaneseFontBytes ??= readFile(japaneseFontPath());
  return japaneseFontBytes;
}
