/** The tensorrt family's spec (the one definition; the native worker validates `open` with it). */
import { z } from 'zod';
import { commonSpecShape } from '../spec.js';

export const trtSpecSchema = z.object({
  ...commonSpecShape,
  engine: z.literal('tensorrt'),
});
export type TrtSpec = Readonly<z.infer<typeof trtSpecSchema>>;
