#!/usr/bin/env node
// Compile every ksy/*.ksy to Python with the pinned kaitai-struct-compiler (npm build).
//
//   node ksy/compile.js OUT_DIR
//
// The generated modules live in the package ext4guard.parser._ksy, so the compiler's
// absolute `import other_ksy` lines (the JS build has no --python-package switch) are
// rewritten to package-relative imports. Output is deterministic: files are written in
// sorted order and nothing else is touched, so the drift test can diff it byte for byte.
"use strict";

const fs = require("fs");
const path = require("path");
const yaml = require("js-yaml");
const compiler = require("kaitai-struct-compiler");

const ksyDir = __dirname;
const outDir = path.resolve(process.argv[2] || path.join(ksyDir, "..", "parser", "_ksy"));

function loadKsy(name) {
  const file = path.join(ksyDir, name.endsWith(".ksy") ? name : name + ".ksy");
  return yaml.load(fs.readFileSync(file, "utf8"));
}

const importer = {
  importYaml: (name, _mode) => Promise.resolve(loadKsy(name)),
};

async function main() {
  const sources = fs.readdirSync(ksyDir).filter((f) => f.endsWith(".ksy")).sort();
  const moduleNames = new Set(sources.map((f) => f.slice(0, -4)));
  fs.mkdirSync(outDir, { recursive: true });
  for (const source of sources) {
    const files = await compiler.compile("python", loadKsy(source), importer, false);
    for (const fileName of Object.keys(files).sort()) {
      const text = files[fileName].replace(/^import (\w+)$/gm, (line, mod) =>
        moduleNames.has(mod) ? `from . import ${mod}` : line,
      );
      fs.writeFileSync(path.join(outDir, fileName), text);
    }
  }
  console.log(`kaitai-struct-compiler ${compiler.version}: ${sources.length} ksy -> ${outDir}`);
}

main().catch((err) => {
  console.error(`ksy compile failed: ${err && err.stack ? err.stack : JSON.stringify(err)}`);
  process.exit(1);
});
