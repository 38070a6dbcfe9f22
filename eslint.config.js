// Typed linting: the rules that catch un-awaited promises and non-exhaustive switches need type information.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * The calendar comes from src/clock.ts (TR118_NOW pins it for tests, parent and child processes alike): a Date.now()
 * elsewhere in src/ would be a reading no test can pin, the next time-bomb (test/unit/clock.test.ts checks the rule).
 */
const calendarRule = [
  'error',
  {
    selector: "MemberExpression[object.name='Date'][property.name='now']",
    message: 'Read the calendar through src/clock.ts (a Clock, clockFromEnv), or performance.now() for a duration.',
  },
  {
    selector: "NewExpression[callee.name='Date'][arguments.length=0]",
    message: 'new Date() reads the calendar: take the time from a Clock (src/clock.ts).',
  },
  {
    selector: "CallExpression[callee.name='Date']",
    message: 'Date() reads the calendar: take the time from a Clock (src/clock.ts).',
  },
];

export default tseslint.config(
  {
    ignores: [
      'dist/',
      'node_modules/',
      'native/',
      'fixtures/',
      'tr118-results/',
      'coverage/',
      '.venv*/',
      '.fixture-work/',
      '.carry/',
      // the device payloads of scripts/device/ort-gpu-carry.sh (git-ignored)
      '.ortgpu/',
    ],
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', performance: 'readonly' } },
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/**/*.ts'],
    rules: {
      'no-restricted-syntax': calendarRule,
    },
  },
  { files: ['**/*.js', '**/*.mjs'], ...tseslint.configs.disableTypeChecked },
);
