/** Where the built web app lives: a static folder any web server can serve (app/build.ts writes it). */
import { resolve } from 'node:path';
import { ROOT } from '../client/paths';

export const APP_DIST = resolve(ROOT, 'dist', 'app', 'web');
