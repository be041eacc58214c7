// Every portable core case module, imported for its registrations.
// Run under V8 by test/core.test.ts and under XS by test/xs/run-xs.mjs.
import './utf8.cases';
import './handshake.cases';
import './sha1-base64.cases';
import './conformance/index';
import './net-helpers.cases';
import './tls.cases';
import './led-state.cases';
import './device-name.cases';
