"""The native worker: one backend per process, driven by the TypeScript runner over stdin/stdout.

It speaks the protocol of `src/backends/protocol.ts` in the frames of `src/backends/framing.ts` (see
`framing.py` here and native/README.md "The worker protocol").
"""
