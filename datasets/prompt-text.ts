// What a prompt may be, wherever it comes from (a dataset's CSV or prompt file, a challenge
// submission): not longer than a text encoder could ever use, and free of control characters.
// A 10,000-character "prompt" is a broken row (an unclosed quote swallowing the rest of the file),
// and control characters are binary junk or terminal escapes, never words.

/** Longest accepted prompt in characters; CLIP reads 77 tokens, a few hundred characters. */
export const MAX_PROMPT_CHARS = 1000;

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

/** Why the prompt is refused, or null when it is fine. Tabs and newlines are not control characters here. */
export function promptProblem(prompt: string, maxChars = MAX_PROMPT_CHARS): string | null {
  if (prompt.length > maxChars) return `a prompt of ${prompt.length} characters, over the limit of ${maxChars}`;
  const control = CONTROL.exec(prompt);
  if (control) return `a prompt with a control character (U+${control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')} at character ${control.index + 1})`;
  return null;
}
