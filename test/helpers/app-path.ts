// Test harnesses that call runApp() directly build the app's path the way the server's route
// does for a mount: the request target with the mount's prefix taken off when stripping.
export function appPath(url: string, prefix: string, strip: boolean): string {
  if (!strip || prefix === '' || !url.startsWith(prefix)) return url;
  return url.slice(prefix.length);
}
