import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** A file from ../testdata (made with openssl and ssh-keygen; see the README there). */
export function readFixture(name: string): string {
  return readFileSync(fileURLToPath(new URL(`../testdata/${name}`, import.meta.url)), 'utf8');
}
