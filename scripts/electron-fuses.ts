// Flips Electron's fuses (features compiled into the binary that an attacker with local access
// could otherwise switch on) on the Electron executable that ships with the app. Run it at
// packaging time, on the copy that gets packaged, never on node_modules/electron's own:
//   node --import tsx scripts/electron-fuses.ts <path to the Electron executable or .app> [--asar]
// It needs @electron/fuses, a packaging tool rather than a dependency of the app (npm i -D
// @electron/fuses where you package). Why each fuse is set as it is: docs/ui.md, "Security".
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

export interface Fuse {
  on: boolean;
  why: string;
}

/** Keys are @electron/fuses' FuseV1Options names. */
export const FUSES = {
  RunAsNode: {
    on: true,
    why: 'training workers are this binary run as Node (ELECTRON_RUN_AS_NODE, src/main/train/runner.ts); off once they move to utilityProcess',
  },
  EnableCookieEncryption: { on: true, why: 'cookies on disk encrypted with the OS key store (the app sets none; free to have)' },
  EnableNodeOptionsEnvironmentVariable: { on: false, why: 'NODE_OPTIONS could inject code (--require) into the main process' },
  EnableNodeCliInspectArguments: { on: false, why: '--inspect would open a debugger port into the main process' },
  LoadBrowserProcessSpecificV8Snapshot: { on: false, why: 'no custom V8 snapshot is shipped' },
  GrantFileProtocolExtraPrivileges: { on: false, why: 'the page loads from app://, so file:// needs no extra rights' },
} satisfies Record<string, Fuse>;

/** Only for a build packaged as app.asar: with a plain folder the app would not start. */
export const ASAR_FUSES = {
  EnableEmbeddedAsarIntegrityValidation: { on: true, why: 'refuse a modified app.asar (macOS, Windows)' },
  OnlyLoadAppFromAsar: { on: true, why: 'load the app from app.asar only, not from a folder placed beside it' },
} satisfies Record<string, Fuse>;

interface FusesModule {
  flipFuses(path: string, config: Record<string | number, unknown>): Promise<number>;
  FuseVersion: { V1: string };
  FuseV1Options: Record<string, number>;
}

async function main(argv: string[]): Promise<void> {
  const target = argv.find((a) => !a.startsWith('--'));
  if (!target) throw new Error('usage: node --import tsx scripts/electron-fuses.ts <Electron executable or .app> [--asar]');
  const name = '@electron/fuses';
  const fuses = (await import(name).catch(() => {
    throw new Error('@electron/fuses is not installed: npm i -D @electron/fuses (a packaging-time tool)');
  })) as FusesModule;
  const chosen: Record<string, Fuse> = { ...FUSES, ...(argv.includes('--asar') ? ASAR_FUSES : {}) };
  const config: Record<string | number, unknown> = { version: fuses.FuseVersion.V1, resetAdHocDarwinSignature: process.platform === 'darwin' };
  for (const [key, fuse] of Object.entries(chosen)) {
    const index = fuses.FuseV1Options[key];
    if (index === undefined) throw new Error(`this @electron/fuses does not know the fuse ${key}`);
    config[index] = fuse.on;
  }
  await fuses.flipFuses(target, config);
  for (const [key, fuse] of Object.entries(chosen)) process.stdout.write(`${key}: ${fuse.on ? 'on' : 'off'} (${fuse.why})\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}
