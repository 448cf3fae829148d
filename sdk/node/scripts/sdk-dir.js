// Prints the directory that contains the C SDK's src/ and include/, relative to binding.gyp:
// csrc/ in a packed package (scripts/vendor-sdk.js fills it), else the repository's sdk/.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const packageDir = path.resolve(__dirname, '..');
const vendored = path.join(packageDir, 'csrc');
const repository = path.resolve(packageDir, '..');
if (fs.existsSync(path.join(vendored, 'include', 'jamjet', 'jamjet.h'))) {
  process.stdout.write('csrc');
} else if (fs.existsSync(path.join(repository, 'include', 'jamjet', 'jamjet.h'))) {
  process.stdout.write('..');
} else {
  process.stderr.write(`jamjet: the C SDK sources are missing: expected ${vendored} or ${repository}\n`);
  process.exit(1);
}
