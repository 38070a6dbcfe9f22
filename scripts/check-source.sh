#!/usr/bin/env bash
# The source checks that need no test run: types, lint (eslint, prettier, dependency-cruiser, ruff) and dist/ being
# exactly what the build makes. .ci/run and the `checks` job of .github/workflows/ci.yml run this; it needs
# `npm ci` and the light Python set (ruff) first.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== typecheck, lint, format"
npm run typecheck
npm run lint
echo "== docs/ generated regions are what npm run docs makes (bench/results, --help)"
npm run docs -- --check
echo "== dist/ is what the build makes"
npm run build
if [ -n "$(git status --porcelain -- dist)" ]; then
  git status --porcelain -- dist
  echo "dist/ differs from a fresh build: run 'npm run build' and commit dist/" >&2
  exit 1
fi
