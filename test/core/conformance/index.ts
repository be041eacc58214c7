// The RFC 6455 conformance catalogue, grouped like the Autobahn testsuite's cases
// (fuzzingserver/fuzzingclient numbering). Every case runs against a server-side and a
// client-side connection (driver.ts) with frames from an independent peer (peer.ts).
//   1 framing            2 ping/pong          3 reserved bits       4 reserved opcodes
//   5 fragmentation      6 UTF-8 (fail-fast)  7 closing handshake   9 size limits
//   10 auto-fragmentation (outbound)          11 streaming mode     12 application handlers
import './g1-framing.cases';
import './g2-pingpong.cases';
import './g3-reserved-bits.cases';
import './g4-opcodes.cases';
import './g5-fragmentation.cases';
import './g6-utf8.cases';
import './g7-close.cases';
import './g9-limits.cases';
import './g10-autofragment.cases';
import './g11-stream.cases';
import './g12-robustness.cases';
