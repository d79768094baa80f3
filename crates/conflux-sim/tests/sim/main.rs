//! The simulator against its own contract: JSON-RPC shapes (compared with recorded real answers), control
//! endpoints, node modes and injected faults. One binary, one module per concern.

mod control;
mod faults;
mod node_modes;
mod rpc;
mod shapes;
