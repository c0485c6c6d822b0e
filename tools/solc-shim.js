#!/usr/bin/env node
// A `solc` command line over the npm `solc` package (the official compiler built to
// WebAssembly), for machines with no native solc. It speaks the subset that py-solc-x,
// brownie and crytic-compile use:
//
//   solc --version
//   solc --standard-json [--allow-paths P[,P...]] [--base-path P] [--include-path P]...
//        (compiler input JSON on stdin, output JSON on stdout, imports read from disk)
//   solc --combined-json abi,bin,... [--allow-paths ...] [remapping=target ...] FILE...
//
// Imports are read only from the current directory, the base path, include paths and
// allowed paths, like the native compiler. Errors go to stderr with a non-zero exit.
'use strict';

const fs = require('fs');
const path = require('path');

function fail(message, code = 1) {
  process.stderr.write(message.endsWith('\n') ? message : message + '\n');
  process.exit(code);
}

function parseArgs(argv) {
  const opts = { mode: null, allowPaths: [], includePaths: [], basePath: null, files: [], remappings: [], combined: null };
  const takesValue = new Set(['--allow-paths', '--base-path', '--include-path', '--combined-json', '--evm-version', '--optimize-runs']);
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    let value = null;
    if (arg.startsWith('--') && arg.includes('=')) {
      [arg, value] = [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)];
    }
    if (takesValue.has(arg) && value === null) {
      if (i + 1 >= argv.length) fail(`Invalid option to ${arg}: missing value`);
      value = argv[++i];
    }
    switch (arg) {
      case '--version': opts.mode = opts.mode || 'version'; break;
      case '--standard-json': opts.mode = 'standard-json'; break;
      case '--combined-json': opts.mode = 'combined-json'; opts.combined = value.split(','); break;
      case '--allow-paths': opts.allowPaths.push(...value.split(',').filter(Boolean)); break;
      case '--base-path': opts.basePath = value; break;
      case '--include-path': opts.includePaths.push(value); break;
      case '--optimize': opts.optimize = true; break;
      case '--optimize-runs': opts.optimizeRuns = parseInt(value, 10); break;
      case '--evm-version': opts.evmVersion = value; break;
      case '--no-color': case '--pretty-json': break;
      default:
        if (arg.startsWith('-')) fail(`unrecognised option '${arg}'`);
        if (arg.includes('=') && !fs.existsSync(arg)) opts.remappings.push(arg);
        else opts.files.push(arg);
    }
  }
  return opts;
}

function makeImportReader(opts) {
  const cwd = process.cwd();
  const roots = [opts.basePath || cwd, ...opts.includePaths].map((p) => path.resolve(cwd, p));
  const allowed = [cwd, ...roots, ...opts.allowPaths.map((p) => path.resolve(cwd, p))];
  const inside = (file) => allowed.some((dir) => file === dir || file.startsWith(dir.endsWith(path.sep) ? dir : dir + path.sep));
  return function findImports(importPath) {
    const candidates = path.isAbsolute(importPath) ? [importPath] : roots.map((root) => path.join(root, importPath));
    for (const candidate of candidates) {
      if (!fs.existsSync(candidate)) continue;
      const real = fs.realpathSync(candidate);
      if (!inside(path.resolve(candidate)) && !inside(real)) {
        return { error: `File outside of allowed directories: ${importPath}` };
      }
      return { contents: fs.readFileSync(real, 'utf8') };
    }
    return { error: `File not found: ${importPath} (searched ${roots.join(', ')})` };
  };
}

function loadSolc() {
  try {
    return require('solc');
  } catch (e) {
    fail(`cannot load the npm package 'solc' (${e.message}); run 'npm ci' in the project`);
  }
}

function combinedJson(solc, opts, findImports) {
  const sources = {};
  for (const file of opts.files) {
    if (!fs.existsSync(file)) fail(`"${file}" is not found.`);
    sources[file] = { content: fs.readFileSync(file, 'utf8') };
  }
  if (Object.keys(sources).length === 0) fail('No input files given.');
  const wanted = {
    abi: 'abi', bin: 'evm.bytecode.object', 'bin-runtime': 'evm.deployedBytecode.object',
    srcmap: 'evm.bytecode.sourceMap', 'srcmap-runtime': 'evm.deployedBytecode.sourceMap',
    userdoc: 'userdoc', devdoc: 'devdoc', hashes: 'evm.methodIdentifiers', metadata: 'metadata',
    'storage-layout': 'storageLayout',
  };
  const outputs = opts.combined.filter((k) => k !== 'ast' && k !== 'compact-format').map((k) => {
    if (!(k in wanted)) fail(`Invalid option to --combined-json: ${k}`);
    return wanted[k];
  });
  const input = {
    language: 'Solidity',
    sources,
    settings: {
      remappings: opts.remappings,
      optimizer: { enabled: !!opts.optimize, runs: opts.optimizeRuns || 200 },
      outputSelection: { '*': { '*': outputs, '': opts.combined.includes('ast') ? ['ast'] : [] } },
    },
  };
  if (opts.evmVersion) input.settings.evmVersion = opts.evmVersion;
  const out = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));
  const errors = (out.errors || []).filter((e) => e.severity === 'error');
  if (errors.length) fail(errors.map((e) => e.formattedMessage || e.message).join('\n'));
  const get = (obj, dotted) => dotted.split('.').reduce((o, k) => (o == null ? o : o[k]), obj);
  const contracts = {};
  for (const [file, byName] of Object.entries(out.contracts || {})) {
    for (const [name, c] of Object.entries(byName)) {
      const entry = {};
      for (const k of opts.combined) {
        if (k === 'ast' || k === 'compact-format') continue;
        let v = get(c, wanted[k]);
        if (k === 'metadata' && typeof v !== 'string') v = JSON.stringify(v);
        entry[k] = v === undefined ? '' : v;
      }
      contracts[`${file}:${name}`] = entry;
    }
  }
  const sourceList = Object.keys(out.sources || {});
  const result = { contracts, sourceList, version: solc.version() };
  if (opts.combined.includes('ast')) {
    result.sources = {};
    for (const [file, s] of Object.entries(out.sources || {})) result.sources[file] = { AST: s.ast, id: s.id };
  }
  process.stdout.write(JSON.stringify(result));
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.mode === 'version') {
    const solc = loadSolc();
    process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`);
    return;
  }
  if (opts.mode === null) fail('expected --version, --standard-json or --combined-json');
  const solc = loadSolc();
  const findImports = makeImportReader(opts);
  if (opts.mode === 'combined-json') return combinedJson(solc, opts, findImports);
  let input = '';
  try {
    input = fs.readFileSync(0, 'utf8');
  } catch (e) {
    fail(`cannot read the compiler input from stdin: ${e.message}`);
  }
  process.stdout.write(solc.compile(input, { import: findImports }));
}

main();
