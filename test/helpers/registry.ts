// A throwaway npm registry on 127.0.0.1 serving the packages already in node_modules, so an
// install test can run `npm install -g <tarball>` the way a user does, with no network.
// (`--offline` alone cannot: `npm ci` caches tarballs but not the registry documents npm needs
// to resolve a tarball's dependency ranges, so it fails with ENOTCACHED on a fresh machine.)
import http from 'node:http';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { once } from 'node:events';
import { promisify } from 'node:util';
import type { AddressInfo } from 'node:net';

const run = promisify(execFile);

interface Manifest {
  name: string;
  version: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  [key: string]: unknown;
}

export interface LocalRegistry {
  url: string;
  /** Names served (the dependency closure found in node_modules). */
  names: string[];
  /** Packument and tarball requests seen, for asserting what npm asked for. */
  requests: string[];
  close(): Promise<void>;
}

/** The runtime dependency closure of `roots`, as installed in `nodeModules` (hoisted layout). */
function closure(nodeModules: string, roots: string[]): Map<string, { dir: string; manifest: Manifest }> {
  const found = new Map<string, { dir: string; manifest: Manifest }>();
  const queue = [...roots];
  for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
    if (found.has(name)) continue;
    const dir = join(nodeModules, name);
    let manifest: Manifest;
    try {
      manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;
    } catch {
      continue; // an optional dependency for another platform: npm skips it when it 404s
    }
    found.set(name, { dir, manifest });
    queue.push(...Object.keys({ ...manifest.dependencies, ...manifest.optionalDependencies }));
  }
  return found;
}

/** Pack every package of the closure (one `npm pack` run) and serve them. */
export async function startRegistry(opts: { nodeModules: string; roots: string[]; workDir: string }): Promise<LocalRegistry> {
  const packages = closure(opts.nodeModules, opts.roots);
  const dirs = [...packages.values()].map((p) => p.dir);
  await mkdir(opts.workDir, { recursive: true });
  const { stdout } = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', opts.workDir, ...dirs], { maxBuffer: 64 << 20 });
  const packed = JSON.parse(stdout) as { name: string; filename: string; integrity: string }[];
  const tarballs = new Map(packed.map((p) => [p.name, p]));
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    const path = decodeURIComponent(req.url ?? '/').replace(/^\//, '');
    requests.push(path);
    const tarball = /^(.+)\/-\/(.+\.tgz)$/.exec(path);
    if (tarball !== null) {
      const file = tarballs.get(tarball[1] ?? '')?.filename;
      if (file === undefined) return void res.writeHead(404).end();
      readFile(join(opts.workDir, file)).then(
        (body) => res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(body),
        () => res.writeHead(500).end(),
      );
      return;
    }
    const pkg = packages.get(path);
    const tgz = tarballs.get(path);
    if (pkg === undefined || tgz === undefined) return void res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
    const { version } = pkg.manifest;
    const dist = { tarball: `${base}${path}/-/${tgz.filename}`, integrity: tgz.integrity };
    const doc = { name: path, 'dist-tags': { latest: version }, versions: { [version]: { ...pkg.manifest, dist } } };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(doc));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return {
    url: base,
    names: [...packages.keys()],
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
