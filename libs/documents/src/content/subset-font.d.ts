declare module 'subset-font' {
  /** HarfBuzz (hb-subset, WebAssembly) subsetting: keeps only the glyphs that `text` needs. */
  export default function subsetFont(font: Buffer, text: string, options?: { targetFormat?: 'truetype' | 'sfnt' | 'woff' | 'woff2'; dropTables?: string[] }): Promise<Buffer>;
}
