// Copies the C SDK's sources and headers into csrc/ so that a packed package (npm pack,
// npm publish) builds without the rest of the repository. Runs as the prepack script.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const packageDir = path.resolve(__dirname, '..');
const sdkDir = path.resolve(packageDir, '..');
const target = path.join(packageDir, 'csrc');
fs.rmSync(target, { recursive: true, force: true });
for (const folder of ['src', 'include']) {
  fs.cpSync(path.join(sdkDir, folder), path.join(target, folder), { recursive: true });
}
