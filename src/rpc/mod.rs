//! Talking to Conflux nodes: JSON-RPC 2.0 batches over HTTP, typed decoding of the node's hex encodings, and the
//! read-only allow-list. Nothing here knows about metrics or state; callers get typed results or [`RpcError`]s.

pub(crate) mod batch;
pub mod cfx;
pub(crate) mod client;
pub(crate) mod error;
pub(crate) mod methods;
pub mod pos;
pub(crate) mod redact;
pub mod text;
pub mod wire;

pub use batch::Answer;
pub use batch::{decode, to_raw};
pub use client::{Call, NoopObserver};
pub use client::{Client, ClientSettings, RpcObserver};
pub use error::{RpcError, ERROR_KINDS};
pub(crate) use redact::redact_url;
