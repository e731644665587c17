// --env-file: variables for the apps, in dotenv syntax, read with Node's own parser.
import { readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { errorCode, ServeHereError } from '../errors.js';

export function readEnvFile(path: string): Record<string, string> {
  try {
    return parseEnv(readFileSync(path, 'utf8')) as Record<string, string>;
  } catch (error) {
    throw new ServeHereError(`Cannot read env file "${path}": ${errorCode(error) === 'ENOENT' ? 'no such file' : String(error)}`);
  }
}
