// Every extension in mime's own tables: the sandbox tests put each type the server can send through the rule.
import standardTypes from 'mime/types/standard.js';
import otherTypes from 'mime/types/other.js';

export function mimeExtensions(): string[] {
  const tables: Array<Record<string, readonly string[]>> = [standardTypes, otherTypes];
  return [...new Set(tables.flatMap((t) => Object.values(t).flat()))];
}
