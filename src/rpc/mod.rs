//! Talking to Conflux nodes: JSON-RPC 2.0 batches over HTTP, typed decoding of the node's hex encodings, and the
//! read-only allow-list. Nothing here knows about metrics or state; callers get typed results or [`RpcError`]s.

pub mod batch;
pub mod cfx;
pub mod client;
pub mod consensus;
pub mod error;
pub mod methods;
pub mod pos;
pub mod redact;
pub mod text;
pub mod wire;

pub use batch::{decode, to_raw, Answer};
pub use client::{Call, Client, ClientSettings, NoopObserver, RpcObserver};
pub use error::{RpcError, ERROR_KINDS};
pub use redact::redact_url;
