// The Action's entry (action.yml runs dist/index.js): only starts run().
import { run } from './main.js';

await run();
