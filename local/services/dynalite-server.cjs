'use strict';
/**
 * The local cloud's DynamoDB: dynalite (a DynamoDB implementation on LevelDB, its in-memory store) in a process of its
 * own, as DynamoDB is a service of its own. In the local cloud's process, each write's several LevelDB steps waited
 * behind everything else that process's main thread does (every simulated AWS call, every state transition): under
 * the 1,000-build benchmark a PutItem took 100 ms and a DeleteItem 300, which no DynamoDB user sees. Plain CommonJS, so
 * that it starts without a TypeScript loader. local/services/dynamodb.ts is its only client: it forks this file with
 * dynalite's options as JSON in argv[2]; this answers { port } over the IPC channel once it listens on 127.0.0.1,
 * and exits when the local cloud disconnects (stopped, or gone).
 */
const dynalite = require('dynalite');

const server = dynalite(JSON.parse(process.argv[2] || '{}'));
server.listen(0, '127.0.0.1', () => {
  if (process.connected) process.send({ port: server.address().port });
});
process.on('disconnect', () => process.exit(0));
