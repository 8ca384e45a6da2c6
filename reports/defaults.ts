// How much a report page shows: one table, read by the page builders and by `medsynth report --help`.
export const REPORT_DEFAULTS = {
  /** synthetic images shown per prompt */
  perPrompt: 16,
  /** images of each kind shown per category in the real vs synthetic view */
  perCategory: 8,
  /** rejected files listed (the rest are counted) */
  rejects: 200,
  /** thumbnails: longest side in pixels, and JPEG quality */
  thumbnails: { size: 160, quality: 75 },
};
