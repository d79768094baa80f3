//! Checks of the repository itself: module layout, generated docs and golden exposition, the read-only
//! allow-list, the binary's command line and shutdown, and the host probes on this machine.

mod architecture;
mod binary;
mod docs;
mod golden_exposition;
mod host_guard;
mod host_process;
mod readonly;
mod teardown;
