// The two testees in the Moddable simulator, for conformance harnesses driving our code
// on the real XS runtime: `npm run testee:server -- --moddable ...` and
// `npm run testee:client -- --moddable --url ...` (scripts/testee.mjs) build this app
// with the settings in its config (mcconfig ... role=server|client port=P ...) and run it
// in mcsim. The logic is test/testee/testees.ts and fuzzing.ts, the same as on the sim
// host. The client (config caseTimeout and deadline in ms: --case-timeout, --deadline)
// ends with a "testee: exit N" trace, which the launcher turns into its exit status.
import config from 'mc/config';
import { startEchoServer } from 'websockets/apps/echo-app';
import { installModdablePlatform } from 'websockets/moddable-platform';
import { WebSocketClient } from 'websockets/client';
import { testeeServerBanner, testeeServerOptions } from 'testees';
import { runFuzzingClient } from 'fuzzing-testee';

installModdablePlatform();

const flag = (value: unknown): boolean => value === true || value === 'true' || value === '1';

if (config.role === 'client') {
  const line = (text: string): void => trace(`${text}\n`);
  runFuzzingClient({
    url: String(config.url),
    agent: String(config.agent),
    createClient: (options) => new WebSocketClient(options),
    maxMessage: Number(config.maxMessage),
    caseTimeout: Number(config.caseTimeout),
    deadline: Number(config.deadline),
    log: line,
    error: (text) => line(`error: ${text}`),
  }).then(
    (status) => line(`testee: exit ${status}`),
    (error: unknown) => line(`error: ${error instanceof Error ? error.message : String(error)}\ntestee: exit 1`),
  );
} else {
  const settings = {
    port: Number(config.port),
    maxMessage: Number(config.maxMessage),
    messageMode: flag(config.messageMode),
    maxClients: Number(config.maxClients),
  };
  startEchoServer(testeeServerOptions(settings));
  // The simulator's listener binds every interface; harnesses connect to 127.0.0.1.
  trace(`${testeeServerBanner(settings.port, settings)}\n`);
}
