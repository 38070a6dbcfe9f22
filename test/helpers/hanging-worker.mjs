// A worker that speaks the protocol, opens fine, then never answers a run: a hung backend, as the runner sees one.
// Busy-waits (like a native call stuck in a kernel) so that only killing the process can stop it.
process.on('message', (message) => {
  if (message.type === 'open') {
    process.send({
      type: 'opened',
      id: message.id,
      info: {
        protocolVersion: 1,
        runtime: 'hang',
        runtimeVersion: '0',
        providers: ['cpu'],
        inputNames: ['input_ids'],
        outputNames: ['logits'],
        openMs: 0,
      },
    });
  } else if (message.type === 'run' || message.type === 'perplexity') {
    for (;;) {
      // never returns
    }
  } else if (message.type === 'close') {
    process.send({ type: 'closed', id: message.id });
  }
});
