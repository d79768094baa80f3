//! Taking an endpoint down or bringing it back up: applies a control patch to the world, then stops the
//! endpoint's listener or re-binds its port. Sits above both `shared` (the state) and `rpc` (the server that
//! reads the state) so that those two do not import each other.

use std::sync::Arc;

use serde_json::Value;

use super::patch::EndpointPatch;
use super::rpc;
use super::shared::{stop_listening, Shared};
use super::SimError;

/// Applies a patch to endpoint `name` and starts or stops its listener if `down` changed.
/// Returns the endpoint's new state. If the port cannot be re-bound, the endpoint stays down.
pub async fn patch_endpoint(
    shared: &Arc<Shared>,
    name: &str,
    patch: &EndpointPatch,
) -> Result<Value, SimError> {
    let mut listeners = shared.listeners().await;
    let effects = shared.world().patch(name, patch)?;
    match effects.down_changed {
        Some(true) => {
            if let Some(l) = listeners.remove(name) {
                stop_listening(l, true).await;
            }
        }
        Some(false) => {
            let addr = shared.addr(name)?;
            match rpc::bind(addr).await {
                Ok((listener, _)) => {
                    listeners.insert(name.to_string(), rpc::serve(shared, name, listener));
                }
                Err(e) => {
                    shared.world().endpoint_mut(name)?.view.down = true;
                    return Err(e);
                }
            }
        }
        None => {}
    }
    drop(listeners);
    shared.endpoint_state(name)
}
