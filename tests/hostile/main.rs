//! Broken peers and hostile input: malformed RPC answers, host probes and PoS histories a peer controls
//! (property tests), and every recorded fixture decoding.

mod fixtures_decode;
mod host;
mod ledger_faults;
mod malformed;
mod pos;
mod rpc;
