/**
 * electron-builder afterPack hook: flips Electron's fuses in the packed binary before it is
 * signed. Fuses are baked into the executable, so no environment variable, command-line switch
 * or file beside the app can turn these protections back off on a kiosk in the field.
 */
'use strict';

// CommonJS on purpose: electron-builder loads hooks with require() inside its own process.
/* eslint-disable @typescript-eslint/no-require-imports */

const path = require('node:path');
const { flipFuses, FuseV1Options, FuseVersion } = require('@electron/fuses');

/** Every fuse this Electron knows, set explicitly so a new fuse fails the build until decided. */
const fuseSettings = Object.freeze({
  // The binary must never act as a plain Node interpreter (ELECTRON_RUN_AS_NODE).
  [FuseV1Options.RunAsNode]: false,
  // Cookies and local storage at rest are encrypted with the OS key store.
  [FuseV1Options.EnableCookieEncryption]: true,
  // NODE_OPTIONS could preload arbitrary code into the main process.
  [FuseV1Options.EnableNodeOptionsEnvironmentVariable]: false,
  // --inspect would open a debugger port onto the process that drives the gate relay.
  [FuseV1Options.EnableNodeCliInspectArguments]: false,
  // The app archive is checked against the hash electron-builder embeds at pack time.
  [FuseV1Options.EnableEmbeddedAsarIntegrityValidation]: true,
  // Only app.asar is loaded, so an unpacked `app` folder dropped beside it is ignored.
  [FuseV1Options.OnlyLoadAppFromAsar]: true,
  // We ship no custom browser-process snapshot.
  [FuseV1Options.LoadBrowserProcessSpecificV8Snapshot]: false,
  // The renderer is served from the app:// scheme; file:// needs no extra powers.
  [FuseV1Options.GrantFileProtocolExtraPrivileges]: false,
});

/** The full fuse configuration for one platform. */
function fuseConfig(electronPlatformName) {
  return {
    version: FuseVersion.V1,
    strictlyRequireAllFuses: true,
    // Flipping fuses invalidates the ad-hoc signature Apple Silicon requires; re-sign it.
    resetAdHocDarwinSignature: electronPlatformName === 'darwin',
    ...fuseSettings,
  };
}

/** Where the packed Electron executable is, the same way electron-builder itself names it. */
function electronBinaryPath(context) {
  const { appOutDir, electronPlatformName, packager } = context;
  const productFilename = packager.appInfo.productFilename;

  switch (electronPlatformName) {
    case 'darwin':
    case 'mas':
      return path.join(appOutDir, `${productFilename}.app`);
    case 'win32':
      return path.join(appOutDir, `${productFilename}.exe`);
    default:
      return path.join(appOutDir, packager.executableName || productFilename);
  }
}

/** The hook electron-builder calls once per packed platform and architecture. */
async function afterPack(context) {
  const binary = electronBinaryPath(context);
  const config = fuseConfig(context.electronPlatformName);

  await flipFuses(binary, config);
  console.log(`  • fuses flipped  file=${binary}`);
}

module.exports = { afterPack, default: afterPack, fuseConfig, electronBinaryPath };
